import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { verifyMetaSignature } from '../../src/providers/meta/verify.js'

/**
 * The ingest baseline: a bare Fastify route that does the least any correct receiver must do with
 * a Meta webhook — check the X-Hub-Signature-256 HMAC over the raw bytes (the gateway's own
 * verifier, so both sides pay the same for it) and parse the JSON — and nothing else: no storage,
 * no dedupe, no events. Runs as its own process; prints its URL as the first line.
 *
 * @example
 * BARE_APP_SECRET=s3cr3t BARE_PORT=0 node --import tsx bench/baseline/bare-webhook.ts
 */
const secret = process.env.BARE_APP_SECRET ?? ''
if (secret === '') throw new Error('BARE_APP_SECRET is required')

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 })
app.removeAllContentTypeParsers()
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

app.post('/webhooks/meta/:account', async (req, reply) => {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
  const verdict = verifyMetaSignature(secret, { method: req.method, url: req.url, headers: req.headers as Record<string, string | undefined>, body })
  if (!verdict.ok) return reply.code(401).send({ ok: false })
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    return reply.code(400).send({ ok: false })
  }
  return reply.code(200).send({ ok: typeof parsed === 'object' && parsed !== null })
})

await app.listen({ port: Number(process.env.BARE_PORT ?? 0), host: '127.0.0.1' })
const address = app.server.address() as AddressInfo
process.stdout.write(`http://127.0.0.1:${address.port}\n`)

const stop = () => void app.close().then(() => process.exit(0))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
