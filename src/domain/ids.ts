import { randomFillSync } from 'node:crypto'

/**
 * Time-sortable ids with a type prefix (`msg_01J…`): 10 Crockford base32 characters of
 * milliseconds then 16 of randomness, so ids sort by creation and never collide in practice.
 * Ids made within the same millisecond count up from the previous one (as ULID's monotonic mode
 * does): the parts of a split text share one timestamp and the outbox sends them in id order.
 *
 * @example
 * newId('msg') // 'msg_01JD3Z4K5M8R2T6V9W0X1Y2Z3A'
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const RANDOM_DIGITS = 16

let lastTime = -1
let lastRandom: number[] = []

export function newId(prefix: string, now: number = Date.now()): string {
  // A fake clock may hand over fractions or garbage; the id only encodes whole, non-negative ms.
  const ms = Number.isFinite(now) ? Math.max(0, Math.floor(now)) : 0
  let time = ''
  let t = ms
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time
    t = Math.floor(t / 32)
  }
  const random = ms === lastTime ? increment(lastRandom) : undefined
  lastRandom = random ?? freshRandom()
  lastTime = ms
  return `${prefix}_${time}${lastRandom.map((d) => ALPHABET[d]).join('')}`
}

// Random bytes are drawn 4 KiB at a time: one call into the CSPRNG per 256 ids instead of one per id
// (several ids are made per message, on the hot path).
const pool = Buffer.alloc(4096)
let poolOffset = pool.length

function freshRandom(): number[] {
  if (poolOffset + RANDOM_DIGITS > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const digits: number[] = new Array<number>(RANDOM_DIGITS)
  // 256 is a multiple of 32, so `b % 32` stays uniform.
  for (let i = 0; i < RANDOM_DIGITS; i++) digits[i] = (pool[poolOffset + i] as number) % 32
  poolOffset += RANDOM_DIGITS
  return digits
}

/** Base-32 +1; undefined on overflow (1 in 2^80), which then falls back to fresh randomness. */
function increment(digits: number[]): number[] | undefined {
  const next = [...digits]
  for (let i = next.length - 1; i >= 0; i--) {
    const d = next[i] ?? 0
    if (d < 31) {
      next[i] = d + 1
      return next
    }
    next[i] = 0
  }
  return undefined
}
