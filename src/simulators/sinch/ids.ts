import { mulberry32 } from '../shared/faults.js'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * Sinch ids (message, contact, conversation, request) are ULIDs: 26 Crockford base32 characters,
 * 10 of time then 16 of randomness. The randomness is seeded so a run can be replayed.
 *
 * @example
 * const nextId = createUlidFactory(7, Date.now)
 * nextId() // '01J…' (26 chars)
 */
export function createUlidFactory(seed: number, now: () => number): () => string {
  const random = mulberry32(seed ^ 0x5bd1e995)
  return () => {
    let time = Math.floor(now())
    let timePart = ''
    for (let i = 0; i < 10; i++) {
      timePart = CROCKFORD.charAt(time % 32) + timePart
      time = Math.floor(time / 32)
    }
    let randomPart = ''
    for (let i = 0; i < 16; i++) randomPart += CROCKFORD.charAt(Math.floor(random() * 32))
    return timePart + randomPart
  }
}
