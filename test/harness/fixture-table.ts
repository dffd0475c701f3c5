import { describe, expect, it } from 'vitest'
import type { AccountContext, ProviderAdapter, ProviderId, RawRequest, WebhookItem } from '../../src/providers/types.js'
import { fixtureFiles, readFixture } from './fixtures.js'

/**
 * The shared fixture-table harness. Each provider's test file declares rows over its captured
 * payloads; the harness signs (or forges) each webhook the provider's way, runs the adapter's
 * `verify` and `parse`, and checks the HTTP status the gateway would answer and the parsed items.
 * Expected values are written from the fixture folder's index.md, never from adapter output.
 *
 * @example
 * webhookTable({ provider: 'meta', adapter, account, sign, rows: [
 *   { file: 'webhook-text-reply-with-context.json', status: 200,
 *     items: [{ kind: 'message', message: { text: 'replied text', context: { id: 'wamid.xyzxyz==' } } }] },
 * ] })
 */

export type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T

export interface WebhookRow {
  file: string
  /** Test title suffix; defaults to the file name. */
  name?: string
  /** How the request is authenticated: signed correctly (default), with a forged signature, or none. */
  auth?: 'signed' | 'forged' | 'missing'
  /** The status the gateway answers: 401 when verify fails, 200 otherwise. */
  status: 200 | 401
  /** Parsed items, in order, matched with toMatchObject. Omit for 401 rows. */
  items?: Array<DeepPartial<WebhookItem>>
}

export interface Signer {
  /** Returns the request with whatever headers / URL parts the provider's scheme adds. */
  sign(req: RawRequest): RawRequest
  /** Returns the request with a wrong but well-formed signature. */
  forge(req: RawRequest): RawRequest
  /** Returns the request with no authentication at all. */
  strip(req: RawRequest): RawRequest
}

export interface WebhookTableOptions<C> {
  provider: ProviderId
  adapter: ProviderAdapter<C>
  account: AccountContext<C>
  /** Builds the unsigned request for a fixture body (content type, URL). */
  request(body: Buffer, file: string): RawRequest
  signer: Signer
  rows: WebhookRow[]
  /** Payload files of this provider that are not webhooks (send requests/responses, vectors). */
  nonWebhookFiles: string[]
}

/** HTTP status the gateway's webhook route answers for this verdict (the route's own rule). */
export function statusFor(verified: boolean): 200 | 401 {
  return verified ? 200 : 401
}

export function webhookTable<C>(opts: WebhookTableOptions<C>): void {
  describe(`${opts.provider} webhook fixtures`, () => {
    for (const row of opts.rows) {
      const auth = row.auth ?? 'signed'
      it(`${row.name ?? row.file} (${auth}) → ${row.status}`, () => {
        const unsigned = opts.request(readFixture(opts.provider, row.file), row.file)
        const req =
          auth === 'signed' ? opts.signer.sign(unsigned) : auth === 'forged' ? opts.signer.forge(unsigned) : opts.signer.strip(unsigned)
        const verdict = opts.adapter.verify(opts.account, req)
        expect(statusFor(verdict.ok)).toBe(row.status)
        if (!verdict.ok) return
        const items = opts.adapter.parse(opts.account, req)
        expect(items).toHaveLength(row.items?.length ?? 0)
        items.forEach((item, i) => expect(item).toMatchObject(row.items?.[i] as object))
      })
    }

    it('covers every fixture file of the folder', () => {
      const covered = new Set([...opts.rows.map((r) => r.file), ...opts.nonWebhookFiles])
      expect(fixtureFiles(opts.provider).filter((f) => !covered.has(f))).toEqual([])
    })
  })
}
