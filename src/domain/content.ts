import { z } from 'zod'

/**
 * Provider-neutral outbound content, as accepted by `POST /v1/messages` (snake_case) and as handed
 * to every adapter's `send()`. Adapters translate it to their own wire format.
 */

export const MEDIA_KINDS = ['image', 'audio', 'video', 'document', 'sticker'] as const
export type MediaKind = (typeof MEDIA_KINDS)[number]

export const CONTENT_TYPES = ['text', ...MEDIA_KINDS, 'template', 'interactive', 'location', 'reaction'] as const
export type ContentType = (typeof CONTENT_TYPES)[number]

/** An absolute http(s) URL, as every provider needs for media links and base URLs. */
export const httpUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v)
      return u.protocol === 'https:' || u.protocol === 'http:'
    } catch {
      return false
    }
  }, 'must be an absolute http(s) URL')

export const MediaSchema = z
  .object({
    url: httpUrl.optional(),
    /** A media id already uploaded to the provider (Meta). */
    id: z.string().min(1).max(256).optional(),
    caption: z.string().max(4096).optional(),
    filename: z.string().min(1).max(240).optional(),
    /** Declared MIME type; when absent it is inferred from the URL's extension. */
    mime_type: z.string().max(127).optional(),
    /** Declared size in bytes, checked against the provider's limit before sending. */
    size: z.number().int().nonnegative().optional(),
  })
  .strict()
  .refine((m) => Boolean(m.url) !== Boolean(m.id), { message: 'give exactly one of media.url or media.id' })
export type Media = z.infer<typeof MediaSchema>

export const TemplateParameterSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string().max(4096) }).strict(),
  z.object({ type: z.literal('payload'), payload: z.string().max(1024) }).strict(),
  z.object({ type: z.enum(['image', 'video', 'document']), url: httpUrl, filename: z.string().max(240).optional() }).strict(),
])
export type TemplateParameter = z.infer<typeof TemplateParameterSchema>

export const TemplateComponentSchema = z
  .object({
    type: z.enum(['header', 'body', 'button']),
    sub_type: z.enum(['quick_reply', 'url', 'copy_code']).optional(),
    index: z.number().int().min(0).max(9).optional(),
    parameters: z.array(TemplateParameterSchema).max(100).default([]),
  })
  .strict()
  .refine((c) => c.type !== 'button' || (c.sub_type !== undefined && c.index !== undefined), {
    message: 'a button component needs sub_type and index',
  })
export type TemplateComponent = z.infer<typeof TemplateComponentSchema>

export const TemplateSchema = z
  .object({
    name: z.string().min(1).max(512),
    language: z.string().min(2).max(15),
    components: z.array(TemplateComponentSchema).max(20).optional(),
  })
  .strict()
export type Template = z.infer<typeof TemplateSchema>

const InteractiveHeaderSchema = z.object({ type: z.literal('text'), text: z.string().min(1).max(60) }).strict()

export const InteractiveSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('button'),
      header: InteractiveHeaderSchema.optional(),
      body: z.string().min(1).max(1024),
      footer: z.string().max(60).optional(),
      buttons: z
        .array(z.object({ id: z.string().min(1).max(256), title: z.string().min(1).max(20) }).strict())
        .min(1)
        .max(3),
    })
    .strict(),
  z
    .object({
      type: z.literal('list'),
      header: InteractiveHeaderSchema.optional(),
      body: z.string().min(1).max(4096),
      footer: z.string().max(60).optional(),
      button: z.string().min(1).max(20),
      sections: z
        .array(
          z
            .object({
              title: z.string().max(24).optional(),
              rows: z
                .array(
                  z
                    .object({
                      id: z.string().min(1).max(200),
                      title: z.string().min(1).max(24),
                      description: z.string().max(72).optional(),
                    })
                    .strict(),
                )
                .min(1)
                .max(10),
            })
            .strict(),
        )
        .min(1)
        .max(10)
        // WhatsApp counts rows across all sections: 10 in total, not 10 per section.
        .refine((sections) => sections.reduce((n, section) => n + section.rows.length, 0) <= 10, { message: 'a list holds at most 10 rows in total' }),
    })
    .strict(),
])
export type Interactive = z.infer<typeof InteractiveSchema>

export const LocationSchema = z
  .object({
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
    name: z.string().max(1000).optional(),
    address: z.string().max(1000).optional(),
  })
  .strict()
export type Location = z.infer<typeof LocationSchema>

export const ReactionSchema = z
  .object({
    /** The wagate id (msg_…) or the provider's id of the message reacted to. */
    message_id: z.string().min(1).max(256),
    /** One emoji; empty removes the reaction. */
    emoji: z.string().max(32),
  })
  .strict()
export type Reaction = z.infer<typeof ReactionSchema>

/** The normalized content of one outbound message: a tagged union on `type`. */
export type OutboundContent =
  | { type: 'text'; text: string; preview_url?: boolean }
  | { type: MediaKind; media: Media }
  | { type: 'template'; template: Template }
  | { type: 'interactive'; interactive: Interactive }
  | { type: 'location'; location: Location }
  | { type: 'reaction'; reaction: Reaction }

/** MIME type guessed from a URL or filename extension, for the capability check. */
export function mimeFromName(name: string | undefined): string | undefined {
  if (!name) return undefined
  const path = name.split(/[?#]/)[0] ?? ''
  const base = path.slice(path.lastIndexOf('/') + 1)
  const dot = base.lastIndexOf('.')
  // A name without a dot ("pdf") has no extension; and `constructor` must not reach Object.prototype.
  if (dot < 0) return undefined
  const ext = base.slice(dot + 1).toLowerCase()
  return Object.hasOwn(EXTENSION_MIME, ext) ? EXTENSION_MIME[ext] : undefined
}

const EXTENSION_MIME: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  aac: 'audio/aac',
  amr: 'audio/amr',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  '3gp': 'video/3gp',
  mov: 'video/quicktime',
  txt: 'text/plain',
  pdf: 'application/pdf',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  csv: 'text/csv',
  exe: 'application/x-msdownload',
  zip: 'application/zip',
  vcf: 'text/vcard',
}
