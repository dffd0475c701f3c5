import { randomBytes } from 'node:crypto'

let counter = 0

/**
 * A new WhatsApp message id: `wamid.` + base64 of the recipient digits and a unique part, under the
 * documented 128-character limit (meta.md §1.1). Random, not seeded, so that two simulator runs
 * never hand the gateway the same id.
 *
 * @example
 * newWamid('16505551234') // 'wamid.MTY1MDU1NTEyMzQVAgARGBA…'
 */
export function newWamid(recipient: string): string {
  counter = (counter + 1) % 0xffffff
  const unique = `${randomBytes(8).toString('hex').toUpperCase()}${counter.toString(16).padStart(6, '0').toUpperCase()}`
  const raw = Buffer.concat([Buffer.from(recipient.slice(0, 40)), Buffer.from([0x15, 0x02, 0x00, 0x11, 0x18, 0x10]), Buffer.from(unique)])
  return `wamid.${raw.toString('base64')}`
}

/** A new media id: 16 digits, like Graph object ids. */
export function newMediaId(): string {
  const n = randomBytes(8).readBigUInt64BE() % 10n ** 15n
  return `1${n.toString().padStart(15, '0')}`
}
