import { randomBytes } from 'node:crypto'

/**
 * Time-sortable ids with a type prefix (`msg_01J…`): 10 Crockford base32 characters of
 * milliseconds then 16 of randomness, so ids sort by creation and never collide in practice.
 *
 * @example
 * newId('msg') // 'msg_01JD3Z4K5M8R2T6V9W0X1Y2Z3A'
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

export function newId(prefix: string, now: number = Date.now()): string {
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time
    t = Math.floor(t / 32)
  }
  const bytes = randomBytes(16)
  let rand = ''
  for (const b of bytes) rand += ALPHABET[b % 32]
  return `${prefix}_${time}${rand}`
}
