import { afterEach, describe, expect, it } from 'vitest'
import { startCaptureServer, type CaptureServer } from '../../../test/harness/capture-server.js'
import { SendError } from '../../domain/errors.js'
import { metaConfigSchema } from './config.js'
import { listMetaTemplates } from './templates.js'

/** `GET /<waba_id>/message_templates` (the template registry's sync) against a scripted Graph. */
let server: CaptureServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const config = (baseUrl: string, extra: Record<string, unknown> = {}) =>
  metaConfigSchema.parse({ phone_number_id: '1065', access_token: 'EAAG-token', app_secret: 's', base_url: baseUrl, waba_id: '102290129340398', ...extra })

const template = (name: string) => ({ name, language: 'en_US', status: 'APPROVED', category: 'UTILITY', components: [{ type: 'BODY', text: 'Hi {{1}}' }], id: '1' })

describe('listMetaTemplates', () => {
  it('reads every page on the Graph host with the Bearer token', async () => {
    server = await startCaptureServer((req) => {
      const page2 = req.path.includes('after=P2')
      const next = `${server?.url}/v25.0/102290129340398/message_templates?after=P2`
      return { status: 200, body: JSON.stringify(page2 ? { data: [template('b')], paging: { cursors: {} } } : { data: [template('a')], paging: { next } }) }
    })
    const list = await listMetaTemplates(config(server.url), { timeoutMs: 2_000 })
    expect(list.map((t) => t.name)).toEqual(['a', 'b'])
    expect(list[0]).toEqual({ name: 'a', language: 'en_US', status: 'APPROVED', category: 'UTILITY', components: [{ type: 'BODY', text: 'Hi {{1}}' }] })
    expect(server.requests[0]?.path).toMatch(/^\/v25\.0\/102290129340398\/message_templates\?/)
    expect(server.requests.every((r) => r.headers.authorization === 'Bearer EAAG-token')).toBe(true)
  })

  it('never follows a next link to another host (the token would go with it)', async () => {
    server = await startCaptureServer(() => ({ status: 200, body: JSON.stringify({ data: [template('a')], paging: { next: 'http://198.51.100.7/steal' } }) }))
    expect((await listMetaTemplates(config(server.url), { timeoutMs: 2_000 })).map((t) => t.name)).toEqual(['a'])
    expect(server.requests).toHaveLength(1)
  })

  it('needs waba_id, and turns Graph errors into SendError codes', async () => {
    await expect(listMetaTemplates(config('http://127.0.0.1:9', { waba_id: undefined }), { timeoutMs: 500 })).rejects.toMatchObject({ code: 'config_error' })
    server = await startCaptureServer(() => ({ status: 401, body: JSON.stringify({ error: { message: 'Invalid OAuth access token', type: 'OAuthException', code: 190 } }) }))
    const err = await listMetaTemplates(config(server.url), { timeoutMs: 2_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SendError)
    expect(err).toMatchObject({ code: 'auth_failed', providerCode: '190' })
    server.respond(() => ({ status: 200, body: '{"not":"a list"}' }))
    await expect(listMetaTemplates(config(server.url), { timeoutMs: 2_000 })).rejects.toMatchObject({ code: 'unknown' })
  })
})
