import type { z } from 'zod'
import { ApiError } from '../engine/api-error.js'

/** Parses a request part with a zod schema; failures become `invalid_request` naming each field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.infer<S> {
  if (what === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new ApiError('invalid_request', 'the body must be a JSON object')
  }
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  throw new ApiError('invalid_request', parsed.error.issues.map((i) => `${[what, ...i.path].join('.')}: ${i.message}`).join('; '), {
    errors: parsed.error.issues.map((i) => ({ path: [what, ...i.path].join('.'), message: i.message })),
  })
}
