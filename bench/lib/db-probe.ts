import { statSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'

/**
 * Reads the gateway's SQLite file from the bench process: read-only while the gateway runs (WAL
 * lets a reader sit beside the writer) to see when messages reached `sent`, and after it stopped to
 * measure how many bytes each stored message takes.
 *
 * @example
 * const probe = openProbe(dataDir)
 * probe.progress(t0, ['acc_1']) // { terminal: 1200, sent: 1198, failed: 2, lastUpdate: 1795…, firstCreated: 1795… }
 */
export interface Progress {
  total: number
  /** sent, delivered or read. */
  sent: number
  failed: number
  firstCreated: number
  lastUpdate: number
}

export function openProbe(dataDir: string) {
  const db = new SQLite(join(dataDir, 'wagate.db'), { readonly: true, fileMustExist: true })
  db.pragma('busy_timeout = 5000')
  const tenant = (db.prepare('select id from tenants limit 1').get() as { id: string } | undefined)?.id ?? ''
  const progressStmt = db.prepare(`
    select count(*) as total,
           sum(case when status in ('sent','delivered','read') then 1 else 0 end) as sent,
           sum(case when status = 'failed' then 1 else 0 end) as failed,
           min(created_at) as firstCreated,
           max(case when status in ('sent','delivered','read','failed') then updated_at end) as lastUpdate
      from messages where tenant_id = ? and created_at >= ? and direction = 'out'`)
  return {
    progress(sinceMs: number): Progress {
      const r = progressStmt.get(tenant, sinceMs) as Record<string, number | null>
      return { total: r.total ?? 0, sent: r.sent ?? 0, failed: r.failed ?? 0, firstCreated: r.firstCreated ?? Number.NaN, lastUpdate: r.lastUpdate ?? Number.NaN }
    },
    /** Accept → `sent` time of each message created since `sinceMs` (gateway clock, ms). */
    sentLatencies(sinceMs: number): number[] {
      const rows = db
        .prepare(`select updated_at - created_at as d from messages where tenant_id = ? and created_at >= ? and direction = 'out' and status = 'sent'`)
        .all(tenant, sinceMs) as Array<{ d: number }>
      return rows.map((r) => Number(r.d))
    },
    /** Outbound messages that reached `sent` (and no further): the known targets of the status-merge variant. */
    sentMessages(accountIds: string[]): Array<{ accountId: string; wamid: string; urn: string }> {
      if (accountIds.length === 0) return []
      const rows = db
        .prepare(`select account_id, provider_message_id, urn from messages where direction = 'out' and status = 'sent' and provider_message_id is not null and account_id in (${accountIds.map(() => '?').join(',')}) order by id`)
        .all(...accountIds) as Array<{ account_id: string; provider_message_id: string; urn: string }>
      return rows.map((r) => ({ accountId: r.account_id, wamid: r.provider_message_id, urn: r.urn }))
    },
    close: () => db.close(),
  }
}

export interface StorageReport {
  fileBytes: number
  usedBytes: number
  rows: Record<string, number>
  /** Bytes per table including its indexes (SQLite dbstat). */
  tableBytes: Record<string, number>
}

/** Storage after the gateway has stopped (its WAL checkpointed into the main file). */
export function storageReport(dataDir: string): StorageReport {
  const file = join(dataDir, 'wagate.db')
  const wal = `${file}-wal`
  const fileBytes = statSync(file).size + (existsSync(wal) ? statSync(wal).size : 0)
  const db = new SQLite(file)
  try {
    const pageSize = Number(db.pragma('page_size', { simple: true }))
    const pageCount = Number(db.pragma('page_count', { simple: true }))
    const freelist = Number(db.pragma('freelist_count', { simple: true }))
    const owners = new Map(
      (db.prepare(`select name, tbl_name from sqlite_schema where type in ('table','index')`).all() as Array<{ name: string; tbl_name: string }>).map((r) => [r.name, r.tbl_name]),
    )
    const tableBytes: Record<string, number> = {}
    try {
      for (const r of db.prepare('select name, sum(pgsize) as bytes from dbstat group by name').all() as Array<{ name: string; bytes: number }>) {
        const table = owners.get(r.name) ?? r.name
        tableBytes[table] = (tableBytes[table] ?? 0) + Number(r.bytes)
      }
    } catch {
      // dbstat not compiled in: totals only
    }
    const rows: Record<string, number> = {}
    for (const t of ['messages', 'message_history', 'events', 'contacts', 'contact_urns', 'conversations', 'outbox', 'parked_statuses']) {
      rows[t] = Number((db.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n)
    }
    return { fileBytes, usedBytes: (pageCount - freelist) * pageSize, rows, tableBytes }
  } finally {
    db.close()
  }
}
