import Fastify, { type FastifyError } from 'fastify'
import type { AddressInfo } from 'node:net'
import { registerControlRoutes } from './control-routes.js'
import { createSimCore } from './core.js'
import { graphErrors } from './graph-errors.js'
import { registerGraphRoutes, UnparsableBody } from './graph-routes.js'
import type { MetaSimulator, MetaSimulatorOptions } from './types.js'

export type { MetaSimAccount, MetaSimulator, MetaSimulatorOptions, MetaTemplate } from './types.js'
export { signBody } from './webhooks.js'
export { waIdFor, isBsuid } from './wa-id.js'

/**
 * A fake Meta Graph API (WhatsApp Cloud API) on loopback, written from the provider documentation.
 * Sends are checked for auth and shape, answered like Meta, and followed by signed status webhooks;
 * `inbound()` makes a contact write to the business. Numbers ending in 0000 are not on WhatsApp.
 *
 * @example
 * const sim = createMetaSimulator({ accounts: [{ phoneNumberId: '1001', displayPhoneNumber: '15550001001',
 *   accessToken: 'tok', appSecret: 'sec', webhookUrl: 'http://127.0.0.1:3000/webhooks/meta' }] })
 * await sim.start()
 * // POST `${sim.graphUrl}/1001/messages` with `Authorization: Bearer tok`
 * await sim.inbound('1001', { from: '+16505551234', text: 'hi' })
 * await sim.idle(); await sim.stop()
 */
export function createMetaSimulator(options: MetaSimulatorOptions = {}): MetaSimulator {
  const apiVersion = options.apiVersion ?? 'v25.0'
  let url = ''
  const core = createSimCore(options, () => url)
  // forceCloseConnections: stop() must not wait on sockets held open by the `timeout` fault.
  const app = Fastify({ logger: false, forceCloseConnections: true })

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const raw = typeof body === 'string' ? body : body.toString('utf8')
    if (raw === '') return done(null, undefined)
    try {
      done(null, JSON.parse(raw) as unknown)
    } catch {
      done(null, new UnparsableBody(raw))
    }
  })
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/_sim/')) core.stats.requests++
  })
  app.setNotFoundHandler((req, reply) => {
    const { status, body } = graphErrors.unknownPath(req.url)
    return reply.code(status).send(body)
  })
  app.setErrorHandler((error: FastifyError, _req, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500
    const reply400 = graphErrors.invalidParameter(error.message)
    return reply.code(status).send(status < 500 ? reply400.body : graphErrors.serverError().body)
  })
  registerGraphRoutes(app, core)
  registerControlRoutes(app, core)

  return {
    provider: 'meta',
    get url() {
      return url
    },
    get graphUrl() {
      return `${url}/${apiVersion}`
    },
    async start() {
      await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' })
      const address = app.server.address() as AddressInfo
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
      url = `http://${host}:${address.port}`
    },
    async stop() {
      core.poster.stop()
      for (const timer of core.timers) clearTimeout(timer)
      core.timers.clear()
      for (const res of core.hung) res.destroy()
      core.hung.clear()
      await app.close()
    },
    addAccount: (account) => core.addAccount(account),
    templates: () => core.templates.map((t) => ({ ...t, components: t.components.map((c) => ({ ...c })) })),
    inbound: (accountKey, message) => core.inbound(accountKey, message),
    setFaults: (rules) => core.faults.set(rules),
    clearFaults: () => core.faults.clear(),
    sent: () => [...core.records],
    stats: () => ({ ...core.stats }),
    idle: (timeoutMs) => core.poster.idle(timeoutMs),
  }
}
