import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'

/**
 * Secrets at rest: provider credentials are sealed with AES-256-GCM under the instance's secret
 * key; API keys are stored as SHA-256 hashes (they are 32 random bytes, so a fast hash is enough).
 *
 * @example
 * const box = createSecretBox(keyFromSecret('a long passphrase here'))
 * box.open(box.seal('{"access_token":"…"}'))
 */
export interface SecretBox {
  seal(plaintext: string): string
  open(sealed: string): string
}

export function keyFromSecret(secret: string): Buffer {
  const trimmed = secret.trim()
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex')
  const b64 = Buffer.from(trimmed, 'base64')
  if (b64.length === 32 && /^[A-Za-z0-9+/=_-]+$/.test(trimmed)) return b64
  return scryptSync(trimmed, 'wagate-secret-key-v1', 32)
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('secret key must be 32 bytes')
  return {
    seal(plaintext) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return `v1.${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${ct.toString('base64url')}`
    },
    open(sealed) {
      const fields = sealed.split('.')
      const [version, iv, tag, ct] = fields
      if (fields.length !== 4 || version !== 'v1' || !iv || !tag || ct === undefined) throw new Error('sealed value has an unknown format')
      const ivBytes = Buffer.from(iv, 'base64url')
      const tagBytes = Buffer.from(tag, 'base64url')
      // GCM would accept a tag cut down to 4 bytes, and with it a forgery at 1 in 2^32: insist on 16.
      if (ivBytes.length !== 12 || tagBytes.length !== 16) throw new Error('sealed value has an unknown format')
      const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: 16 })
      decipher.setAuthTag(tagBytes)
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8')
    },
  }
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

export function newApiKey(): string {
  return `wg_${randomBytes(24).toString('base64url')}`
}

export function newWebhookToken(): string {
  return randomBytes(24).toString('base64url')
}

export function constantTimeEqual(a: string, b: string): boolean {
  // UTF-16 code units, not UTF-8: UTF-8 turns every lone surrogate into the same U+FFFD bytes.
  const x = Buffer.from(a, 'utf16le')
  const y = Buffer.from(b, 'utf16le')
  if (x.length !== y.length) {
    timingSafeEqual(x, x)
    return false
  }
  return timingSafeEqual(x, y)
}
