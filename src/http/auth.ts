import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Tenant } from '../engine/tenants.js'
import { sendProblem } from './errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    tenant: Tenant
  }
}

/** `Authorization: Bearer <api key>` → the request's tenant, or a 401 problem. */
export function bearerAuth(authenticate: (key: string) => Promise<Tenant | undefined>) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization
    const match = header ? /^Bearer\s+(\S{8,256})$/i.exec(header) : null
    if (!match?.[1]) return sendProblem(reply, 'unauthorized', 'send your API key as "Authorization: Bearer <key>"')
    const tenant = await authenticate(match[1])
    if (!tenant) return sendProblem(reply, 'unauthorized', 'this API key is not valid')
    request.tenant = tenant
  }
}
