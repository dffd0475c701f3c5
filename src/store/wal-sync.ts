import { open, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * Makes SQLite commits durable off the event loop. With `synchronous = FULL` SQLite fsyncs the WAL
 * inside `commit`, and better-sqlite3 runs that on the JavaScript thread: the gateway then parsed no
 * request for the 1–4 ms of each fsync (measured: busy 0.69 of a core at saturation, the rest in
 * fsync). The store now runs `synchronous = NORMAL` (WAL: always consistent, checkpoints synced,
 * commits not) and, after each group commit, fsyncs the WAL file itself on libuv's thread pool
 * before it resolves any write of that group. A write is still acknowledged only once its commit is
 * on disk; the thread parses the next requests while the disk works.
 *
 * `sync()` covers every commit made before it was called. Calls made while an fsync runs share the
 * next one: an fsync already under way may have started before their commit.
 *
 * @example
 * const file = walFsync('/data/wagate.db')
 * const wal = createWalSync(file.fsync, file.close)
 * db.exec('commit')
 * await wal.sync() // the commit is durable now
 */
export interface WalSync {
  sync(): Promise<void>
  /** How many fsyncs ran (each covered one group commit or more). */
  count(): number
  close(): Promise<void>
}

export type FsyncFile = () => Promise<void>

/** The WAL file of `dbFile`, opened once; its directory is synced once too (the file's name is data). */
export function walFsync(dbFile: string): { fsync: FsyncFile; close(): Promise<void> } {
  let handle: Promise<FileHandle> | undefined
  const opened = async () => {
    const wal = await open(`${dbFile}-wal`, 'r')
    const dir = await open(dirname(dbFile), 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
    return wal
  }
  return {
    async fsync() {
      handle ??= opened()
      try {
        await (await handle).sync()
      } catch (error) {
        handle = undefined // reopen next time (the first open may have raced the WAL's creation)
        throw error
      }
    },
    async close() {
      const h = handle
      handle = undefined
      if (h) await (await h.catch(() => undefined))?.close()
    },
  }
}

export function createWalSync(fsync: FsyncFile, onClose: () => Promise<void> = async () => undefined): WalSync {
  let running: Promise<void> | undefined
  let next: Promise<void> | undefined
  let count = 0
  const start = (): Promise<void> => {
    count++
    const p = fsync().finally(() => {
      if (running === p) running = undefined
    })
    running = p
    return p
  }
  const sync = (): Promise<void> => {
    if (!running) return start()
    // Wait for the fsync under way (whatever its outcome), then one fsync for everyone who waited.
    next ??= running
      .catch(() => undefined)
      .then(() => {
        next = undefined
        return start()
      })
    return next
  }
  return {
    sync,
    count: () => count,
    async close() {
      await next?.catch(() => undefined)
      await running?.catch(() => undefined)
      await onClose()
    },
  }
}
