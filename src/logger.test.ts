import { describe, expect, it } from 'vitest'
import { createLogger, redactUrl } from './logger.js'

function capture(secrets: string[] = [], level = 'info') {
  const lines: string[] = []
  const set = new Set(secrets)
  const logger = createLogger({ level, secrets: set, destination: { write: (line: string) => void lines.push(line) } })
  return { logger, lines, secrets: set, text: () => lines.join('') }
}

describe('createLogger secret masking', () => {
  const token = 'EAAGm0PX4ZCpsBAKfakeToken123'

  it('masks a registered secret in the message, in object fields and in an error', () => {
    const { logger, text, lines } = capture([token])
    logger.info(`calling Graph with ${token}`)
    logger.info({ account: { headers: { Authorization: `Bearer ${token}` } }, list: [token] }, 'nested')
    logger.error({ err: new Error(`provider said: invalid token ${token}`) }, 'send failed')
    expect(lines).toHaveLength(3)
    expect(text()).not.toContain(token)
    expect(text().split('[redacted]').length - 1).toBeGreaterThanOrEqual(5) // message, header, list, err message, err stack
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
  })

  it('masks secrets registered after the logger was made (and in child loggers)', () => {
    const { logger, secrets, text } = capture()
    const child = logger.child({ account: 'acme' })
    secrets.add('late-secret-value')
    child.warn({ detail: 'x late-secret-value y' }, 'late')
    expect(text()).not.toContain('late-secret-value')
    expect(text()).toContain('x [redacted] y')
  })

  it('masks a secret whose characters JSON escapes (quote, backslash, control, lone surrogate)', () => {
    const tricky = ['pa"ss\\word-42', 'tab\there-and-more', 'nul\u0000byte-secret', 'half\ud800surrogate']
    const { logger, text } = capture(tricky)
    for (const s of tricky) logger.info({ value: s }, `msg ${s}`)
    const out = text()
    for (const s of tricky) {
      expect(out).not.toContain(s)
      expect(out).not.toContain(JSON.stringify(s).slice(1, -1))
    }
    expect(out).not.toMatch(/pa\\"ss|ss\\\\word|tab\\there|nul\\u0000byte|half\\ud800/)
  })

  it('leaves no piece of a secret that contains another secret', () => {
    const { logger, text } = capture(['abcdef', 'xyz-abcdef-uvw-0987'])
    logger.info('value xyz-abcdef-uvw-0987 end')
    expect(text()).not.toMatch(/xyz|uvw|0987/)
    expect(text()).toContain('value [redacted] end')
  })

  it('does not mask values shorter than 6 characters (they would mangle ordinary words)', () => {
    const { logger, text } = capture(['info'])
    logger.info('info stays')
    expect(text()).toContain('info stays')
  })

  it('redacts credential headers and account config by path', () => {
    const { logger, text } = capture()
    logger.info({ headers: { authorization: 'Basic dXNlcjpwYXNz' }, config: { access_token: 'abc' } }, 'outbound')
    const line = JSON.parse(text()) as { headers: { authorization: string }; config: unknown }
    expect(line.headers.authorization).toBe('[redacted]')
    expect(line.config).toBe('[redacted]')
  })

  it('serializes req with the URL redacted and no headers', () => {
    const { logger, text } = capture()
    logger.info({ req: { method: 'POST', url: '/webhooks/gupshup/acme/tok_9f8e7d6c', id: 'r1', headers: { apikey: 'k' } } }, 'in')
    const line = JSON.parse(text()) as { req: Record<string, unknown> }
    expect(line.req).toEqual({ method: 'POST', url: '/webhooks/gupshup/acme/[redacted]', id: 'r1' })
  })

  it('respects the level', () => {
    const { logger, lines } = capture([], 'warn')
    logger.info('hidden')
    logger.warn('shown')
    expect(lines).toHaveLength(1)
  })
})

describe('redactUrl', () => {
  it.each([
    ['/webhooks/gupshup/acme/s3cr3t', '/webhooks/gupshup/acme/[redacted]'],
    ['/webhooks/gupshup/acme/s3cr3t?x=1', '/webhooks/gupshup/acme/[redacted]?x=1'],
    ['https://gw.example.com/webhooks/gupshup/acme.br/s3cr3t#f', 'https://gw.example.com/webhooks/gupshup/acme.br/[redacted]#f'],
    ['/webhooks/meta?hub.mode=subscribe&hub.verify_token=my-verify&hub.challenge=1158201444', '/webhooks/meta?hub.mode=subscribe&hub.verify_token=[redacted]&hub.challenge=1158201444'],
    ['/webhooks/meta/acme?hub.verify_token=my-verify', '/webhooks/meta/acme?hub.verify_token=[redacted]'],
    ['/webhooks/sinch/acme?token=s3cr3t', '/webhooks/sinch/acme?token=[redacted]'],
    ['/webhooks/sinch/acme?x=1&token=s3cr3t&y=2', '/webhooks/sinch/acme?x=1&token=[redacted]&y=2'],
    ['/webhooks/twilio/acme', '/webhooks/twilio/acme'],
    ['/webhooks/gupshup/acme', '/webhooks/gupshup/acme'],
    ['/v1/messages?limit=10', '/v1/messages?limit=10'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected)
  })
})
