import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { constantTimeEqual, createSecretBox, hashApiKey, keyFromSecret, newApiKey, newWebhookToken } from './crypto.js'

const box = createSecretBox(randomBytes(32))

/** Flips one bit of the byte at `index` of a base64url field. */
function flipByte(field: string, index: number): string {
  const bytes = Buffer.from(field, 'base64url')
  bytes[index % bytes.length] = (bytes[index % bytes.length] as number) ^ 0x01
  return bytes.toString('base64url')
}

describe('createSecretBox', () => {
  it('round-trips any text, with a fresh IV each time (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 500 }), (text) => {
        const a = box.seal(text)
        expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/)
        expect(box.open(a)).toBe(text)
        expect(box.seal(text)).not.toBe(a)
      }),
      { numRuns: 300 },
    )
  })

  it('does not reveal the plaintext', () => {
    const sealed = box.seal('{"access_token":"EAAG-very-secret"}')
    expect(sealed).not.toContain('EAAG')
    expect(Buffer.from(sealed.split('.')[3] as string, 'base64url').toString('utf8')).not.toContain('EAAG')
  })

  it.each([1, 2, 3])('throws when any byte of field %i (iv, tag, ciphertext) is flipped (property)', (field) => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 100 }), fc.nat(), (text, index) => {
        const parts = box.seal(text).split('.')
        parts[field] = flipByte(parts[field] as string, index)
        expect(() => box.open(parts.join('.'))).toThrow()
      }),
      { numRuns: 100 },
    )
  })

  it('refuses a truncated authentication tag (GCM would otherwise accept 4 bytes)', () => {
    const [v, iv, tag, ct] = box.seal('secret').split('.')
    const short = Buffer.from(tag as string, 'base64url').subarray(0, 4).toString('base64url')
    expect(() => box.open([v, iv, short, ct].join('.'))).toThrow()
  })

  it('refuses malformed values', () => {
    const good = box.seal('x')
    for (const bad of ['', 'v1', 'v2.a.b.c', good.replace(/^v1/, 'v0'), `${good}.extra`, 'v1..tag.ct', 'v1.iv..ct']) expect(() => box.open(bad)).toThrow()
  })

  it('cannot be opened with another key', () => {
    const other = createSecretBox(randomBytes(32))
    expect(() => other.open(box.seal('x'))).toThrow()
  })

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow('32 bytes')
  })
})

describe('keyFromSecret', () => {
  const raw = randomBytes(32)

  it('reads 64 hex characters as the raw key', () => {
    expect(keyFromSecret(raw.toString('hex'))).toEqual(raw)
    expect(keyFromSecret(` ${raw.toString('hex').toUpperCase()}\n`)).toEqual(raw)
  })

  it('reads base64 and base64url of 32 bytes as the raw key', () => {
    expect(keyFromSecret(raw.toString('base64'))).toEqual(raw)
    expect(keyFromSecret(raw.toString('base64url'))).toEqual(raw)
  })

  it('stretches a passphrase to a stable 32-byte key, different per passphrase', () => {
    const a = keyFromSecret('correct horse battery staple')
    expect(a).toHaveLength(32)
    expect(keyFromSecret('correct horse battery staple')).toEqual(a)
    expect(keyFromSecret('correct horse battery stable')).not.toEqual(a)
    // a passphrase is not taken as raw bytes
    expect(a).not.toEqual(Buffer.from('correct horse battery staple').subarray(0, 32))
  })

  it('gives keys a box accepts, so data sealed under one spelling opens under another', () => {
    const sealed = createSecretBox(keyFromSecret(raw.toString('hex'))).seal('hello')
    expect(createSecretBox(keyFromSecret(raw.toString('base64'))).open(sealed)).toBe('hello')
  })
})

describe('hashApiKey', () => {
  it('is SHA-256 hex (FIPS 180-2 test vector "abc")', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('is stable and distinguishes keys', () => {
    const key = newApiKey()
    expect(hashApiKey(key)).toBe(hashApiKey(key))
    expect(hashApiKey(key)).not.toBe(hashApiKey(`${key}x`))
  })
})

describe('newApiKey / newWebhookToken', () => {
  it('makes wg_-prefixed keys with 24 random bytes, and url-safe tokens', () => {
    const keys = new Set(Array.from({ length: 1000 }, newApiKey))
    expect(keys.size).toBe(1000)
    for (const k of keys) expect(k).toMatch(/^wg_[A-Za-z0-9_-]{32}$/)
    expect(newWebhookToken()).toMatch(/^[A-Za-z0-9_-]{32}$/)
  })
})

describe('constantTimeEqual', () => {
  /** Any UTF-16 code unit, lone surrogates included, from a small alphabet so that equal strings come up. */
  const codeUnit = fc.constantFrom('a', 'b', '\ud800', '\udc00', '\udbff', '\ufffd', 'é')
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'abcd', false],
    ['', '', true],
    ['', 'a', false],
    ['é', 'e\u0301', false],
    ['\ud800', '\udbff', false], // lone surrogates all encode to U+FFFD in UTF-8
    ['x\ud800', 'x\ufffd', false],
  ])('%j vs %j → %s', (a, b, expected) => {
    expect(constantTimeEqual(a, b)).toBe(expected)
  })

  it('agrees with === (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: codeUnit, maxLength: 8 }), fc.string({ unit: codeUnit, maxLength: 8 }), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(a === b)
        expect(constantTimeEqual(a, a)).toBe(true)
      }),
    )
  })
})
