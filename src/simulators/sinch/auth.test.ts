import { afterEach, describe, expect, it } from 'vitest'
import { basic, call, fetchToken, sendMessage, sendUrl, startRig, textTo, type Rig } from './test-support.js'

let rig: Rig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})

const form = { 'content-type': 'application/x-www-form-urlencoded' }

describe('OAuth2 token endpoint', () => {
  it('issues a bearer token for key_id:key_secret with the documented fields', async () => {
    rig = await startRig()
    const answer = await call(`${rig.sim.url}/oauth2/token`, {
      headers: { authorization: basic('key-id-1', 'key-secret-1'), ...form },
      body: 'grant_type=client_credentials',
    })
    expect(answer.status).toBe(200)
    const body = answer.json as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type'])
    expect(body.token_type).toBe('bearer')
    expect(body.expires_in).toBe(3600)
    // A JWT whose exp the Node SDK can decode for caching.
    const payload = JSON.parse(Buffer.from(String(body.access_token).split('.')[1] ?? '', 'base64url').toString()) as {
      exp: number
      iat: number
    }
    expect(payload.exp - payload.iat).toBe(3600)
    expect(rig.sim.stats().tokensIssued).toBe(1)
  })

  it.each([
    ['wrong secret', { authorization: basic('key-id-1', 'nope'), ...form }, 'grant_type=client_credentials', 401],
    ['no credentials', { ...form }, 'grant_type=client_credentials', 401],
    ['credentials in the form only', { ...form }, 'grant_type=client_credentials&client_id=key-id-1&client_secret=key-secret-1', 401],
    ['wrong grant type', { authorization: basic('key-id-1', 'key-secret-1'), ...form }, 'grant_type=password', 400],
    ['JSON instead of a form', { authorization: basic('key-id-1', 'key-secret-1'), 'content-type': 'application/json' }, '{"grant_type":"client_credentials"}', 400],
  ])('refuses %s', async (_name, headers, body, status) => {
    rig = await startRig()
    const answer = await call(`${rig.sim.url}/oauth2/token`, { headers, body })
    expect(answer.status).toBe(status)
    expect(typeof (answer.json as { error: unknown }).error).toBe('string')
    expect(rig.sim.stats().tokensIssued).toBe(0)
  })
})

describe('messages:send authentication', () => {
  it('accepts a fresh bearer token and refuses it once expired, saying "expired"', async () => {
    let clock = 1_700_000_000_000
    rig = await startRig({ tokenTtlSeconds: 2, now: () => clock })
    const token = await fetchToken(rig)
    expect((await sendMessage(rig, textTo(rig, '46712312312'), `Bearer ${token}`)).status).toBe(200)
    clock += 2_000
    const expired = await sendMessage(rig, textTo(rig, '46712312312'), `Bearer ${token}`)
    expect(expired.status).toBe(401)
    expect((expired.json as { error: { status: string } }).error.status).toBe('UNAUTHENTICATED')
    expect(String(expired.headers['www-authenticate'])).toContain('expired')
    // A new token works again.
    const fresh = await fetchToken(rig)
    expect((await sendMessage(rig, textTo(rig, '46712312312'), `Bearer ${fresh}`)).status).toBe(200)
    expect(rig.sim.stats()).toMatchObject({ tokensIssued: 2, sent: 2, rejected: 1 })
  })

  it('accepts HTTP Basic key_id:key_secret directly on the API (DOCS21)', async () => {
    rig = await startRig()
    const answer = await sendMessage(rig, textTo(rig, '46712312312'), basic('key-id-1', 'key-secret-1'))
    expect(answer.status).toBe(200)
  })

  it.each([
    ['no Authorization', ''],
    ['an unknown bearer token', 'Bearer not-a-token'],
    ['a wrong Basic secret', basic('key-id-1', 'wrong')],
    ['the key secret used as a bearer token', 'Bearer key-secret-1'],
  ])('refuses %s with 401 UNAUTHENTICATED', async (_name, authorization) => {
    rig = await startRig()
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (authorization) headers.authorization = authorization
    const answer = await call(sendUrl(rig), { headers, body: JSON.stringify(textTo(rig, '46712312312')) })
    expect(answer.status).toBe(401)
    expect(answer.json).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } })
    expect(String(answer.headers['www-authenticate'] ?? '')).not.toContain('expired')
    expect(rig.sim.stats()).toMatchObject({ sent: 0, rejected: 1, requests: 1 })
  })

  it('refuses a token used on another project with 403 PERMISSION_DENIED', async () => {
    rig = await startRig()
    const token = await fetchToken(rig)
    const answer = await call(sendUrl(rig, 'someone-elses-project'), {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(textTo(rig, '46712312312')),
    })
    expect(answer.status).toBe(403)
    expect(answer.json).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } })
  })

  it('routes the literal colon of messages:send only (messages/send is not the API)', async () => {
    rig = await startRig()
    const token = await fetchToken(rig)
    const wrong = await call(`${rig.sim.url}/v1/projects/${rig.app.projectId}/messages/send`, {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(textTo(rig, '46712312312')),
    })
    expect(wrong.status).toBe(404)
  })
})
