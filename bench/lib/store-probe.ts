import { openProbe, type Progress } from './db-probe.js'

/**
 * What the send and known-ingest scenarios read from the gateway's store while it runs, whichever
 * the store: the SQLite file (db-probe.ts) or a PostgreSQL schema (pg-services.ts).
 *
 * @example
 * const probe = sqliteProbe(dataDir)
 * const { sent, lastUpdate } = await probe.progress(t0)
 * await probe.close()
 */
export type { Progress }

export interface StoreProbe {
  progress(sinceMs: number): Promise<Progress>
  /** Accept → `sent` time of each outbound message created since `sinceMs` (gateway clock, ms). */
  sentLatencies(sinceMs: number): Promise<number[]>
  /** Outbound messages at `sent` (and no further) of these accounts, in id order. */
  sentMessages(accountIds: string[]): Promise<Array<{ accountId: string; wamid: string; urn: string }>>
  close(): Promise<void>
}

/** db-probe.ts's synchronous reads of the SQLite file behind the StoreProbe interface. */
export function sqliteProbe(dataDir: string): StoreProbe {
  const p = openProbe(dataDir)
  return {
    progress: async (sinceMs) => p.progress(sinceMs),
    sentLatencies: async (sinceMs) => p.sentLatencies(sinceMs),
    sentMessages: async (ids) => p.sentMessages(ids),
    close: async () => {
      p.close()
    },
  }
}
