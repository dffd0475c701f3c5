import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, publicUrl } from './config.js'

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`)
}

describe('loadConfig', () => {
  it('has working defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      WAGATE_PORT: 3000,
      WAGATE_HOST: '127.0.0.1',
      WAGATE_DATA_DIR: './data',
      WAGATE_LOG_LEVEL: 'info',
      WAGATE_SEND_TIMEOUT_MS: 15_000,
      WAGATE_MAX_ATTEMPTS: 12,
      WAGATE_RETRY_BASE_MS: 2_000,
      WAGATE_RETRY_MAX_MS: 600_000,
      WAGATE_WORKER_CONCURRENCY: 256,
      WAGATE_LEASE_MS: 60_000,
      WAGATE_MAX_BODY_BYTES: 1024 * 1024,
      WAGATE_ROLE: 'all',
      WAGATE_SANDBOX: false,
      WAGATE_ALLOW_PRIVATE_WEBHOOKS: false,
    })
  })

  it('reads numbers, booleans and strings, ignoring unrelated and empty variables', () => {
    const c = loadConfig({ WAGATE_PORT: '8080', WAGATE_SANDBOX: '1', WAGATE_DEFAULT_COUNTRY: 'br', WAGATE_HOST: '', PATH: '/bin', WAGATE_MAX_ATTEMPTS: ' 3 ' })
    expect(c.WAGATE_PORT).toBe(8080)
    expect(c.WAGATE_SANDBOX).toBe(true)
    expect(c.WAGATE_DEFAULT_COUNTRY).toBe('br')
    expect(c.WAGATE_HOST).toBe('127.0.0.1')
    expect(c.WAGATE_MAX_ATTEMPTS).toBe(3)
    expect(c).not.toHaveProperty('PATH')
    expect(loadConfig({ WAGATE_SANDBOX: 'false' }).WAGATE_SANDBOX).toBe(false)
    expect(loadConfig({ WAGATE_PORT: '0' }).WAGATE_PORT).toBe(0)
  })

  it.each([
    ['WAGATE_PORT', '70000'],
    ['WAGATE_PORT', 'http'],
    ['WAGATE_PORT', '  '], // Number(' ') is 0: a random port, silently
    ['WAGATE_PORT', '0x50'],
    ['WAGATE_PORT', '8e1'],
    ['WAGATE_PORT', '80.5'],
    ['WAGATE_PORT', '-1'],
    ['WAGATE_SEND_TIMEOUT_MS', '50'],
    ['WAGATE_MAX_ATTEMPTS', '0'],
    ['WAGATE_WORKER_CONCURRENCY', '1000000'],
    ['WAGATE_LEASE_MS', '999'],
    ['WAGATE_MAX_BODY_BYTES', '10'],
    ['WAGATE_LOG_LEVEL', 'verbose'],
    ['WAGATE_ROLE', 'both'],
    ['WAGATE_SANDBOX', 'yes'],
    ['WAGATE_DEFAULT_COUNTRY', 'BRA'],
    ['WAGATE_PUBLIC_URL', 'not a url'],
    ['WAGATE_REDIS_URL', 'http://cache:6379'],
  ])('refuses %s=%j, naming the variable', (name, value) => {
    const err = configError({ [name]: value })
    expect(err.problems).toHaveLength(1)
    expect(err.problems[0]).toMatch(new RegExp(`^${name}: `))
    expect(err.message).toContain(name)
  })

  it('reports every bad variable at once', () => {
    const err = configError({ WAGATE_PORT: 'x', WAGATE_ROLE: 'y' })
    expect(err.problems.map((p) => p.split(':')[0]).sort()).toEqual(['WAGATE_PORT', 'WAGATE_ROLE'])
  })

  it('echoes a harmless bad value to help fix it', () => {
    expect(configError({ WAGATE_ROLE: 'both' }).message).toContain('"both"')
  })

  it.each([
    ['WAGATE_API_KEY', 'short-key-12'],
    ['WAGATE_SECRET_KEY', 'tiny-secret'],
    ['WAGATE_DATABASE_URL', 'mysql://admin:hunter2pass@db/wagate'],
    ['WAGATE_REDIS_URL', 'http://:redispass99@cache:6379'],
  ])('never echoes the value of %s', (name, value) => {
    const err = configError({ [name]: value })
    expect(err.message).toContain(name)
    expect(err.message).not.toContain(value)
    expect(err.message).not.toMatch(/hunter2|redispass|short-key|tiny-secret/)
  })

  it('refuses WAGATE_DATABASE_URL without WAGATE_SECRET_KEY, naming the missing variable', () => {
    const err = configError({ WAGATE_DATABASE_URL: 'postgres://u:p@db/wagate' })
    expect(err.message).toContain('WAGATE_SECRET_KEY')
    expect(err.message).not.toContain('u:p@db')
    const ok = loadConfig({ WAGATE_DATABASE_URL: 'postgresql://u:p@db/wagate', WAGATE_SECRET_KEY: 'a'.repeat(32) })
    expect(ok.WAGATE_DATABASE_URL).toBe('postgresql://u:p@db/wagate')
  })

  it('applies overrides on top, and still refuses a database without a secret key', () => {
    expect(loadConfig({ WAGATE_PORT: '1' }, { WAGATE_PORT: 2 }).WAGATE_PORT).toBe(2)
    expect(() => loadConfig({}, { WAGATE_DATABASE_URL: 'postgres://db/x' })).toThrow(ConfigError)
  })
})

describe('publicUrl', () => {
  it('prefers WAGATE_PUBLIC_URL without its trailing slash', () => {
    expect(publicUrl(loadConfig({ WAGATE_PUBLIC_URL: 'https://gw.example.com/' }), 3000)).toBe('https://gw.example.com')
  })

  it('falls back to the listening address, with 0.0.0.0 shown as loopback', () => {
    expect(publicUrl(loadConfig({}), 4321)).toBe('http://127.0.0.1:4321')
    expect(publicUrl(loadConfig({ WAGATE_HOST: '0.0.0.0' }), 80)).toBe('http://127.0.0.1:80')
    expect(publicUrl(loadConfig({ WAGATE_HOST: 'gw.lan' }), 80)).toBe('http://gw.lan:80')
  })
})
