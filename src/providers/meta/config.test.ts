import { describe, expect, it } from 'vitest'
import { metaConfigSchema } from './config.js'

const minimal = { phone_number_id: '106540352242922', access_token: 'EAAG', app_secret: 's' }

describe('metaConfigSchema', () => {
  it('fills Graph defaults', () => {
    expect(metaConfigSchema.parse(minimal)).toEqual({ ...minimal, base_url: 'https://graph.facebook.com', api_version: 'v25.0' })
  })

  it('drops a trailing slash from base_url', () => {
    expect(metaConfigSchema.parse({ ...minimal, base_url: 'http://127.0.0.1:4010/' }).base_url).toBe('http://127.0.0.1:4010')
  })

  it.each([
    ['a path in phone_number_id', { ...minimal, phone_number_id: '../me' }],
    ['an empty token', { ...minimal, access_token: '' }],
    ['no app secret', { phone_number_id: '1', access_token: 't' }],
    ['a non-http base_url', { ...minimal, base_url: 'file:///etc/passwd' }],
    ['a malformed api_version', { ...minimal, api_version: '25/../x' }],
  ])('refuses %s', (_name, input) => {
    expect(metaConfigSchema.safeParse(input).success).toBe(false)
  })
})
