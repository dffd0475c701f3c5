import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import type { AccountService } from '../engine/accounts.js'
import type { Idempotency } from '../engine/idempotency.js'
import type { InboundPipeline } from '../engine/inbound.js'
import type { MessageService } from '../engine/messages.js'
import type { Clock } from '../engine/clock.js'
import type { TemplateService } from '../engine/templates.js'
import type { SessionService } from '../engine/sessions.js'
import type { Tenant } from '../engine/tenants.js'
import type { Store } from '../store/db.js'
import { bearerAuth } from './auth.js'
import { clientErrorHandler, errorHandler, frameworkErrorHandler, sendProblem } from './errors.js'
import { accountRoutes } from './routes/accounts.js'
import { contactRoutes } from './routes/contacts.js'
import { eventRoutes } from './routes/events.js'
import { messageRoutes } from './routes/messages.js'
import { opsRoutes, type Gauges } from './routes/ops.js'
import { sandboxRoutes, type SandboxHooks } from './routes/sandbox.js'
import { sessionRoutes } from './routes/sessions.js'
import { streamRoutes } from './routes/stream.js'
import { templateRoutes } from './routes/templates.js'
import { ruleRoutes } from './routes/rules.js'
import { subscriptionRoutes } from './routes/subscriptions.js'
import { webhookRoutes } from './routes/webhooks.js'

/**
 * The HTTP face of the gateway: one Fastify app, problem+json errors everywhere, the OpenAPI
 * document at /docs (generated from the same zod schemas the routes use).
 *
 * @example
 * const app = await buildApp({ store, accounts, messages, inbound, idempotency, authenticate, logger, publicUrl, gauges, bodyLimit })
 * await app.listen({ port: 3000 })
 */
export interface AppDeps {
  store: Store
  accounts: AccountService
  messages: MessageService
  inbound: InboundPipeline
  idempotency: Idempotency
  authenticate: (key: string) => Promise<Tenant | undefined>
  logger: Logger
  publicUrl: () => string
  gauges: Gauges
  bodyLimit: number
  sandbox?: SandboxHooks
  /** Session and next-reply refs (issue 5); the routes are absent without it. */
  sessions?: SessionService
  /** The template registry (issue 5); the routes are absent without it. */
  templates?: TemplateService
  /** The gateway's clock, so windows shown by the API agree with the engine (tests move it). */
  clock?: Clock
  /** `ops`: only /healthz, /readyz, /metrics (and /docs), for `--role worker` (issue 7). Default `all`. */
  routes?: 'all' | 'ops'
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit,
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // Validation is done by the handlers (parseWith) so that errors carry our codes; route schemas
    // are kept for the OpenAPI document.
    schemaErrorFormatter: (errors) => new Error(errors.map((e) => e.message).join('; ')),
  })
  app.setValidatorCompiler(() => (data) => ({ value: data }))
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler((req, reply) => sendProblem(reply, 'route_not_found', `no route ${req.method} ${req.url.split('?')[0]}`))
  // Fastify parses text/plain bodies into a string by default; the API takes JSON only, so another
  // content type must be a 415 naming it, not a confusing "the body must be a JSON object".
  app.removeContentTypeParser('text/plain')

  await app.register(swagger, {
    openapi: {
      info: { title: 'wagate', version: '0.1.0', description: 'WhatsApp Business gateway: one REST API and one signed event stream over Meta, Twilio, Sinch and Gupshup.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  opsRoutes(app, { store: deps.store, gauges: deps.gauges })
  if (deps.routes === 'ops') return app

  await app.register(async (api) => {
    api.addHook('onRequest', bearerAuth(deps.authenticate))
    accountRoutes(api, { accounts: deps.accounts })
    messageRoutes(api, { messages: deps.messages, idempotency: deps.idempotency })
    eventRoutes(api, { store: deps.store })
    contactRoutes(api, { store: deps.store, ...(deps.clock ? { clock: deps.clock } : {}) })
    if (deps.templates) templateRoutes(api, { templates: deps.templates })
    if (deps.sessions) sessionRoutes(api, { sessions: deps.sessions })
    subscriptionRoutes(api, { store: deps.store })
    ruleRoutes(api, { store: deps.store })
    streamRoutes(api, { store: deps.store })
    if (deps.sandbox) sandboxRoutes(api, { accounts: deps.accounts, sandbox: deps.sandbox })
  })

  await app.register(async (hooks) => webhookRoutes(hooks, { accounts: deps.accounts, inbound: deps.inbound, publicUrl: deps.publicUrl, bodyLimit: deps.bodyLimit }))
  return app
}
