import { createHmac, randomBytes } from 'node:crypto'

/**
 * OAuth2 client-credentials tokens. They are JWTs carrying `exp`, because the Sinch Node SDK decodes
 * `exp` to cache them (sinch.md §1); the simulator also remembers each one so an unknown token and an
 * expired one answer differently.
 *
 * @example
 * const tokens = createTokenStore({ ttlSeconds: 3600, now: Date.now })
 * const issued = tokens.issue('key-id')
 * tokens.check(issued.accessToken) // { ok: true, keyId: 'key-id' }
 */
export interface IssuedToken {
  accessToken: string
  expiresIn: number
}

export type TokenCheck = { ok: true; keyId: string } | { ok: false; reason: 'invalid' | 'expired' }

export interface TokenStore {
  issue(keyId: string): IssuedToken
  check(accessToken: string): TokenCheck
  issuedCount(): number
}

export function createTokenStore(options: { ttlSeconds: number; now: () => number }): TokenStore {
  const signingKey = randomBytes(32)
  const live = new Map<string, { keyId: string; expiresAtMs: number }>()
  let issued = 0
  const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url')

  return {
    issue(keyId) {
      issued++
      const nowMs = options.now()
      const iat = Math.floor(nowMs / 1000)
      const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
      const payload = b64url(
        JSON.stringify({ iss: 'sinch-simulator', sub: keyId, iat, exp: iat + options.ttlSeconds, jti: `${issued}` }),
      )
      const signature = b64url(createHmac('sha256', signingKey).update(`${header}.${payload}`).digest())
      const accessToken = `${header}.${payload}.${signature}`
      live.set(accessToken, { keyId, expiresAtMs: nowMs + options.ttlSeconds * 1000 })
      return { accessToken, expiresIn: options.ttlSeconds }
    },
    check(accessToken) {
      const entry = live.get(accessToken)
      if (!entry) return { ok: false, reason: 'invalid' }
      if (options.now() >= entry.expiresAtMs) return { ok: false, reason: 'expired' }
      return { ok: true, keyId: entry.keyId }
    },
    issuedCount: () => issued,
  }
}
