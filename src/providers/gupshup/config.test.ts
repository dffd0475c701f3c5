import { describe, expect, it } from 'vitest'
import { GupshupConfigSchema, sourceNumberOf } from './config.js'

const base = { api_key: 'key', app_name: 'DemoApp', webhook_token: 'a'.repeat(16) }

describe('GupshupConfigSchema', () => {
  it('defaults base_url and trims a trailing slash', () => {
    expect(GupshupConfigSchema.parse(base).base_url).toBe('https://api.gupshup.io')
    expect(GupshupConfigSchema.parse({ ...base, base_url: 'http://127.0.0.1:9/' }).base_url).toBe('http://127.0.0.1:9')
  })

  it('requires a webhook token of at least 16 characters, an api key and an app name', () => {
    expect(GupshupConfigSchema.safeParse({ ...base, webhook_token: 'a'.repeat(15) }).success).toBe(false)
    expect(GupshupConfigSchema.safeParse({ ...base, api_key: '' }).success).toBe(false)
    expect(GupshupConfigSchema.safeParse({ api_key: 'k', webhook_token: 'a'.repeat(16) }).success).toBe(false)
  })

  it('takes the source from the account number unless source_number is set', () => {
    expect(sourceNumberOf(GupshupConfigSchema.parse(base), '+91 78348 11114')).toBe('917834811114')
    expect(sourceNumberOf(GupshupConfigSchema.parse({ ...base, source_number: '+917834811114' }), '+15550001111')).toBe('917834811114')
    expect(GupshupConfigSchema.safeParse({ ...base, source_number: 'DemoApp' }).success).toBe(false)
  })

  it('refuses a non-http base_url and unknown keys', () => {
    expect(GupshupConfigSchema.safeParse({ ...base, base_url: 'ftp://x.example' }).success).toBe(false)
    expect(GupshupConfigSchema.safeParse({ ...base, apiKey: 'typo' }).success).toBe(false)
  })
})
