import { request } from 'undici'
import { z } from 'zod'
import { SendError, errorCodeForHttpStatus } from '../../domain/errors.js'
import type { ProviderTemplate, SendContext } from '../types.js'
import type { MetaConfig } from './config.js'
import { META_ERROR_CODES } from './errors.js'

const pageSchema = z.object({
  data: z.array(
    z.object({
      name: z.string().min(1),
      language: z.string().min(1),
      status: z.string().default('APPROVED'),
      category: z.string().default('UTILITY'),
      components: z.array(z.record(z.string(), z.unknown())).default([]),
    }),
  ),
  paging: z.object({ next: z.string().optional() }).optional(),
})

const errorSchema = z.object({ error: z.object({ code: z.union([z.number(), z.string()]), message: z.string().optional() }) })

/** More pages than any real WABA has; a loop guard against a provider that keeps answering `next`. */
const MAX_PAGES = 50

/**
 * Lists the WhatsApp Business Account's templates: `GET /<version>/<waba_id>/message_templates`,
 * following `paging.next` (only on the configured Graph host, so the token never goes elsewhere).
 * Needs `config.waba_id`.
 *
 * @example
 * const templates = await listMetaTemplates(config, { timeoutMs: 10_000 })
 * templates[0] // { name: 'order_update', language: 'en_US', category: 'UTILITY', status: 'APPROVED', components: [...] }
 */
export async function listMetaTemplates(config: MetaConfig, ctx: SendContext): Promise<ProviderTemplate[]> {
  if (!config.waba_id) throw new SendError({ code: 'config_error', providerMessage: 'config.waba_id is needed to list templates' })
  const origin = new URL(config.base_url).origin
  let url: string | undefined = `${config.base_url}/${config.api_version}/${encodeURIComponent(config.waba_id)}/message_templates?fields=name,language,status,category,components&limit=100`
  const out: ProviderTemplate[] = []
  for (let page = 0; url && page < MAX_PAGES; page++) {
    let status: number
    let text: string
    try {
      const res = await request(url, {
        method: 'GET',
        headers: { authorization: `Bearer ${config.access_token}` },
        signal: AbortSignal.timeout(ctx.timeoutMs),
        ...(ctx.dispatcher ? { dispatcher: ctx.dispatcher } : {}),
      })
      status = res.statusCode
      text = await res.body.text()
    } catch (err) {
      throw new SendError({ code: 'transient', providerMessage: `template listing failed: ${err instanceof Error ? err.message : String(err)}` })
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    if (status < 200 || status >= 300) {
      const e = errorSchema.safeParse(json)
      if (!e.success) throw new SendError({ code: errorCodeForHttpStatus(status), httpStatus: status, providerMessage: `HTTP ${status}` })
      throw new SendError({ code: META_ERROR_CODES[String(e.data.error.code)] ?? 'unknown', providerCode: e.data.error.code, providerMessage: e.data.error.message, httpStatus: status })
    }
    const parsed = pageSchema.safeParse(json)
    if (!parsed.success) throw new SendError({ code: 'unknown', httpStatus: status, providerMessage: 'unexpected message_templates body from Meta' })
    out.push(...parsed.data.data)
    const next = parsed.data.paging?.next
    url = next && safeOrigin(next) === origin ? next : undefined
  }
  return out
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}
