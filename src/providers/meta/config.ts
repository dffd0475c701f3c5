import { z } from 'zod'

/**
 * Account config of a Meta WhatsApp Cloud API sender (DESIGN §11). `phone_number_id` and
 * `api_version` become URL path segments, so they are restricted to characters that cannot escape
 * the path.
 *
 * @example
 * const config = metaConfigSchema.parse({ phone_number_id: '106540352242922', access_token: 'EAAG…', app_secret: 's3cr3t' })
 * config.base_url // 'https://graph.facebook.com'
 */
export const metaConfigSchema = z.object({
  phone_number_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'phone_number_id must be the numeric id Meta shows'),
  access_token: z.string().min(1),
  app_secret: z.string().min(1),
  /** Answers the GET `hub.challenge` handshake; without it the handshake is refused. */
  verify_token: z.string().min(1).optional(),
  base_url: z
    .url({ protocol: /^https?$/ })
    .default('https://graph.facebook.com')
    // a trailing slash would produce `//v25.0/…`, which Graph answers with 400
    .transform((url) => url.replace(/\/+$/, '')),
  api_version: z.string().regex(/^v\d{1,3}(\.\d{1,3})?$/, 'api_version looks like v25.0').default('v25.0'),
  waba_id: z.string().min(1).optional(),
})

export type MetaConfig = z.infer<typeof metaConfigSchema>
