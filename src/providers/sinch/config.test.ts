import { describe, expect, it } from 'vitest'
import { sinchCapabilities } from './capabilities.js'
import { SinchConfigSchema, apiBaseUrl, sendUrl, tokenUrl } from './config.js'
import { jwtExpiry } from './token.js'

const minimal = { project_id: 'p', app_id: 'a', key_id: 'k', key_secret: 's' }

describe('SinchConfig', () => {
  it('defaults to region us and OAuth', () => {
    expect(SinchConfigSchema.parse(minimal)).toMatchObject({ region: 'us', auth_mode: 'oauth' })
  })

  it('accepts us, eu, br and refuses other regions', () => {
    for (const region of ['us', 'eu', 'br']) expect(SinchConfigSchema.safeParse({ ...minimal, region }).success).toBe(true)
    expect(SinchConfigSchema.safeParse({ ...minimal, region: 'ap' }).success).toBe(false)
    expect(SinchConfigSchema.safeParse({ ...minimal, base_url: 'ftp://x' }).success).toBe(false)
    expect(SinchConfigSchema.safeParse({ project_id: 'p' }).success).toBe(false)
  })

  it('regional API hosts, overridable by base_url', () => {
    expect(sendUrl({ region: 'us', project_id: 'test_project_id' })).toBe('https://us.conversation.api.sinch.com/v1/projects/test_project_id/messages:send')
    expect(apiBaseUrl({ region: 'eu' })).toBe('https://eu.conversation.api.sinch.com')
    expect(apiBaseUrl({ region: 'br' })).toBe('https://br.conversation.api.sinch.com')
    expect(apiBaseUrl({ region: 'br', base_url: 'http://127.0.0.1:9/' })).toBe('http://127.0.0.1:9')
  })

  it('token endpoint: auth.sinch.com unless overridden', () => {
    expect(tokenUrl({})).toBe('https://auth.sinch.com/oauth2/token')
    expect(tokenUrl({ auth_url: 'http://127.0.0.1:9' })).toBe('http://127.0.0.1:9/oauth2/token')
    expect(tokenUrl({ auth_url: 'https://eu.auth.sinch.com/oauth2/token' })).toBe('https://eu.auth.sinch.com/oauth2/token')
  })
})

describe('sinch capabilities and token helpers', () => {
  it('WhatsApp: 4096 text characters, no user-id recipients, no reactions; sms: nothing', () => {
    const wa = sinchCapabilities('whatsapp')
    expect(wa.textMaxLength).toBe(4096)
    expect(wa.userIdRecipients).toBe(false)
    expect(wa.types).not.toContain('reaction')
    expect(wa.media.image?.maxBytes).toBe(5 * 1024 * 1024)
    expect(sinchCapabilities('sms').types).toEqual([])
  })

  it('reads a JWT exp claim, and nothing from garbage', () => {
    const payload = Buffer.from(JSON.stringify({ exp: 1_900_000_000 })).toString('base64url')
    expect(jwtExpiry(`h.${payload}.s`)).toBe(1_900_000_000)
    expect(jwtExpiry('opaque-token')).toBe(undefined)
    expect(jwtExpiry('a.%%%.b')).toBe(undefined)
  })
})
