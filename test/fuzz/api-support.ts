import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { sql } from 'kysely'
import { request } from 'undici'
import { expect } from 'vitest'
import type { TestGateway } from '../harness/gateway.js'

/**
 * Helpers of the API fuzz tests: a fingerprint of every table (so "a rejected request writes
 * nothing" also catches an UPDATE, not only an INSERT), the problem+json checks, raw HTTP calls
 * with exactly the headers given, and arbitraries for hostile headers, paths and query strings.
 */

export interface Reply {
  method: string
  status: number
  text: string
  json: any
  contentType: string
}

/** One HTTP call with exactly these headers (nothing added) and a bounded wait. */
export async function call(t: TestGateway, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await request(t.url + path, { method: method as 'POST', headers, ...(body !== undefined ? { body } : {}), headersTimeout: 15_000, bodyTimeout: 15_000 })
  const text = await res.body.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { method, status: res.statusCode, text, json, contentType: String(res.headers['content-type'] ?? '') }
}

/**
 * Row count and a content hash of every table (introspected, so tables added later are covered).
 *
 * @example
 * const before = await fingerprint(t); …; expect(await fingerprint(t)).toEqual(before)
 */
export async function fingerprint(t: TestGateway): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [name, rows] of await allRows(t)) {
    const lines = rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).sort()
    out[name] = `${rows.length}:${createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16)}`
  }
  return out
}

/**
 * Every row of every table of the gateway's store (introspected, so tables added later are covered;
 * on PostgreSQL only the gateway's own schema, not other tests').
 */
export async function allRows(t: TestGateway): Promise<Map<string, Array<Record<string, unknown>>>> {
  const read = t.gw.store.read
  const url = t.gw.config.WAGATE_DATABASE_URL
  const schema = t.gw.store.dialect === 'postgres' && url ? (new URL(url).searchParams.get('schema') ?? 'public') : undefined
  // On PostgreSQL, ask for this schema only: introspecting every schema races with other tests
  // dropping theirs ("schema does not exist").
  const names = schema
    ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = ${schema} and table_type = 'BASE TABLE'`.execute(read)).rows.map((r) => r.name)
    : (await read.introspection.getTables()).map((x) => x.name)
  const tables = names.filter((n) => !n.startsWith('kysely_')).sort()
  // Dynamic table names are outside the typed schema on purpose: every table, whoever added it.
  const db = (schema ? read.withSchema(schema) : read) as any
  const out = new Map<string, Array<Record<string, unknown>>>()
  for (const name of tables) out.set(name, (await db.selectFrom(name).selectAll().execute()) as Array<Record<string, unknown>>)
  return out
}

/** A 4xx/5xx must be a 4xx, as problem+json whose `status` repeats the HTTP status. */
export function expectClientProblem(res: Reply, what: string) {
  expect(res.status, `${what} → ${res.status} ${res.text.slice(0, 300)}`).toBeLessThan(500)
  // HEAD answers carry no body, by definition.
  if (res.status < 400 || res.method === 'HEAD') return
  expect(res.contentType, `${what}: ${res.text.slice(0, 200)}`).toMatch(/^application\/problem\+json/)
  expect(res.json, `${what}: ${res.text.slice(0, 200)}`).toMatchObject({ status: res.status })
  expect(typeof res.json.code, what).toBe('string')
  expect(typeof res.json.detail, what).toBe('string')
}

/** Printable header values (what an HTTP client can send at all). */
const headerValue = fc.oneof(
  fc.string({ unit: fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~'), maxLength: 80 }),
  fc.constantFrom('', '0', '-1', 'null', 'application/json', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'gzip', 'x'.repeat(2000)),
)

/** Extra headers a hostile client adds (never the framing ones an HTTP client manages itself). */
export const hostileHeaders: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc.oneof(
    fc.constantFrom('idempotency-key', 'content-encoding', 'accept', 'accept-encoding', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'last-event-id', 'x-request-id', 'origin', 'cookie', 'range', 'if-none-match'),
    fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
  ),
  headerValue,
  { maxKeys: 4 },
)

export const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/problem+json',
  'application/merge-patch+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'APPLICATION/JSON',
  'application/jsonx',
)

const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,24}$/),
  fc.constantFrom('..', '.', '%2e%2e', '%2F', '%00', '%E0%A4%A', '%ZZ', '%25', 'msg_', 'ct_', 'acc_', 'sandbox-meta', '__proto__', 'constructor', '%F0%9F%98%80', ';', 'a'.repeat(300)),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
)

/** Paths under the API's prefixes, built from hostile segments. */
export const hostilePath: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('/v1', '/v1/messages', '/v1/accounts', '/v1/contacts', '/v1/subscriptions', '/v1/events', '/webhooks', '/webhooks/meta', '/sandbox', '', '/docs', '/v2'), fc.array(segment, { maxLength: 4 }))
  .map(([prefix, rest]) => [prefix, ...rest].join('/').replace(/^\/*/, '/'))

export const hostileQuery: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.dictionary(fc.constantFrom('limit', 'before', 'after', 'account', 'contact', 'direction', 'status', 'type', 'topic', 'topics', 'urn', 'state', 'from', '__proto__', 'x'), fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('-1', '0', '1e9', 'NaN', '[]', '{}', '>', '*.*', '%'))).map((d) => `?${new URLSearchParams(d).toString()}`),
  fc.constantFrom('?%', '?a=%E0%A4%A', '?limit=1&limit=2', '?&&&', '?topic=..', '?after=-1'),
)
