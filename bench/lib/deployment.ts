import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { storageReport, type StorageReport } from './db-probe.js'
import { storeCounters, type StoreCounters } from './gateway-api.js'
import type { BackendSpec } from './options.js'
import { createBenchSchema, openPgProbe, pgStorageReport, type BenchSchema } from './pg-services.js'
import { randomSecret, startGateway, type GatewayProcess } from './procs.js'
import { sqliteProbe, type StoreProbe } from './store-probe.js'

/**
 * The gateway process(es) of one scenario on one backend, and the way to read their store:
 * - sqlite: one `serve` on a fresh data directory (what the SQLite scenarios always ran);
 * - postgres: one or two `serve` (role all: API, webhooks and outbox worker each) with
 *   WAGATE_DATABASE_URL on a fresh schema and WAGATE_REDIS_URL (shared limiter and wake-ups),
 *   the same API key and secret key, started one after the other (the first migrates).
 *
 * @example
 * const dep = await deploy({ kind: 'postgres', processes: 2 }, { tmpRoot, scenario: 'flow', services })
 * dep.urls // ['http://127.0.0.1:40001', 'http://127.0.0.1:40002']
 * await dep.stop(); const st = await dep.storage(); await dep.dispose()
 */
export interface Deployment {
  spec: BackendSpec
  /** For logs and RESULTS.md: "SQLite", "PostgreSQL + Redis, 2 processes". */
  label: string
  gateways: GatewayProcess[]
  urls: string[]
  apiKey: string
  /** Monitor names, one per gateway process: `gateway`, `gateway-2`. */
  names: string[]
  /** The PostgreSQL schema (postgres only). */
  schema?: string
  openProbe(): Promise<StoreProbe>
  /** Store commits and transactions, summed over the processes. */
  storeCounters(): Promise<StoreCounters>
  /** Stops every gateway process (SIGTERM, then SIGKILL after the grace time). */
  stop(): Promise<void>
  /** Bytes per table once the gateways stopped. */
  storage(): Promise<StorageReport>
  /** Removes the data: the directory, or the schema (idempotent). */
  dispose(): Promise<void>
}

/** Deployments not yet disposed, so an interrupted run (Ctrl-C) can still stop them and drop their schemas. */
const live = new Set<Deployment>()

/** Stops and disposes every deployment still open; says what it could not clean up. */
export async function disposeAll(log: (line: string) => void = () => undefined): Promise<void> {
  for (const d of [...live]) {
    await d.stop().catch((err: unknown) => log(`  stopping ${d.label} failed: ${String(err)}`))
    await d.dispose().then(
      () => log(`  ${d.schema ? `dropped schema ${d.schema}` : 'removed its data directory'} (${d.label})`),
      (err: unknown) => log(`  cleaning up ${d.label}${d.schema ? ` (schema ${d.schema})` : ''} failed: ${String(err)}`),
    )
  }
}

export function backendLabel(spec: BackendSpec): string {
  return spec.kind === 'sqlite' ? 'SQLite' : `PostgreSQL + Redis, ${spec.processes} process${spec.processes > 1 ? 'es' : ''}`
}

/** Short id for file and schema names: `sqlite`, `pg1`, `pg2`. */
export function backendId(spec: BackendSpec): string {
  return spec.kind === 'sqlite' ? 'sqlite' : `pg${spec.processes}`
}

export interface DeployOptions {
  tmpRoot: string
  /** Prefix of the data directory (`ingest`, `flow`) and part of the schema name. */
  scenario: string
  services: { databaseUrl: string; redisUrl: string }
  cpuProfDir?: string
}

export async function deploy(spec: BackendSpec, opts: DeployOptions): Promise<Deployment> {
  const dataDir = mkdtempSync(join(opts.tmpRoot, `${opts.scenario}-`))
  const prof = opts.cpuProfDir ? { cpuProfDir: opts.cpuProfDir } : {}
  if (spec.kind === 'sqlite') {
    let gw: GatewayProcess
    try {
      gw = await startGateway({ dataDir, ...prof })
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true })
      throw err
    }
    const dep: Deployment = {
      spec,
      label: backendLabel(spec),
      gateways: [gw],
      urls: [gw.url],
      apiKey: gw.apiKey,
      names: ['gateway'],
      openProbe: async () => sqliteProbe(dataDir),
      storeCounters: () => storeCounters(gw.url),
      stop: () => gw.stop(),
      storage: async () => storageReport(dataDir),
      dispose: async () => {
        rmSync(dataDir, { recursive: true, force: true })
        live.delete(dep)
      },
    }
    live.add(dep)
    return dep
  }

  const schema: BenchSchema = await createBenchSchema(opts.services.databaseUrl, `${opts.scenario}_${backendId(spec)}`)
  const gateways: GatewayProcess[] = []
  const apiKey = `bench_${randomSecret(16)}`
  const secretKey = randomSecret(32)
  // one cleanup, however many callers (the scenario's and Ctrl-C's): each waits for the drop
  let disposing: Promise<void> | undefined
  const dispose = () =>
    (disposing ??= (async () => {
      rmSync(dataDir, { recursive: true, force: true })
      await schema.drop()
    })())
  let starting: Promise<GatewayProcess> | undefined
  let stopped = false
  const dep: Deployment = {
    spec,
    label: backendLabel(spec),
    gateways,
    urls: [],
    apiKey,
    names: [],
    schema: schema.name,
    openProbe: () => openPgProbe(opts.services.databaseUrl, schema.name),
    async storeCounters() {
      const all = await Promise.all(gateways.map((g) => storeCounters(g.url)))
      return { commits: all.reduce((a, c) => a + c.commits, 0), transactions: all.reduce((a, c) => a + c.transactions, 0) }
    },
    stop: async () => {
      stopped = true
      // a process still starting would migrate (re-create the schema) after the drop: stop it too
      const late = await starting?.catch(() => undefined)
      if (late && !gateways.includes(late)) await late.stop()
      await Promise.all(gateways.map((g) => g.stop()))
    },
    storage: () => pgStorageReport(opts.services.databaseUrl, schema.name),
    // stays in `live` until the schema is gone, so Ctrl-C during a drop waits for it
    dispose: async () => {
      await dispose()
      live.delete(dep)
    },
  }
  // registered before the processes start: Ctrl-C while they start still drops the schema
  live.add(dep)
  try {
    for (let i = 0; i < spec.processes; i++) {
      // stopped meanwhile (Ctrl-C): start nothing more, it would re-create the dropped schema
      if (stopped) throw new Error('the run was interrupted')
      const name = i === 0 ? 'gateway' : `gateway-${i + 1}`
      starting = startGateway({
        dataDir,
        apiKey,
        secretKey,
        name,
        env: { WAGATE_DATABASE_URL: schema.gatewayUrl, WAGATE_REDIS_URL: opts.services.redisUrl },
        ...prof,
      })
      gateways.push(await starting)
    }
  } catch (err) {
    await dep.stop()
    await dep.dispose().catch(() => undefined)
    throw err
  }
  dep.urls.push(...gateways.map((g) => g.url))
  dep.names.push(...gateways.map((g) => g.name))
  return dep
}
