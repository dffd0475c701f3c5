/**
 * Command-line options and the two run profiles: the full run (median of 5, about seven minutes on two
 * cores) and `--quick` (median of 3 on shorter phases, about a minute: a smoke test of the harness,
 * not figures to quote; the PostgreSQL + Redis variants run once each in it).
 *
 * @example
 * parseOptions(['--quick', '--only=ingest']).reps // 3
 * parseOptions(['--backend', 'postgres:2']).backends // [{ kind: 'postgres', processes: 2 }]
 */
export type ScenarioName = 'ingest' | 'send' | 'ratelimit'
export const SCENARIOS: readonly ScenarioName[] = ['ingest', 'ratelimit', 'send']

/**
 * Where the gateway keeps its data: the embedded SQLite (one process), or PostgreSQL + Redis shared
 * by one or two gateway processes.
 */
export type BackendSpec = { kind: 'sqlite'; processes: 1 } | { kind: 'postgres'; processes: 1 | 2 }
const BACKENDS: Record<string, BackendSpec[]> = {
  sqlite: [{ kind: 'sqlite', processes: 1 }],
  postgres: [
    { kind: 'postgres', processes: 1 },
    { kind: 'postgres', processes: 2 },
  ],
  'postgres:1': [{ kind: 'postgres', processes: 1 }],
  'postgres:2': [{ kind: 'postgres', processes: 2 }],
}
/** Options that take a value, written `--name=value` or `--name value`. */
const VALUE_OPTIONS = ['only', 'out', 'note', 'backend']

export interface BenchOptions {
  quick: boolean
  /** Run the gateway with --cpu-prof and summarize where its time went. */
  profile: boolean
  only: Set<ScenarioName>
  out: string
  /** Free-form note printed at the top of RESULTS.md (e.g. "preliminary: machine shared"). */
  note: string | undefined
  /** Backends in the order they run; the SQLite scenarios are the ones `--backend` leaves out or keeps. */
  backends: BackendSpec[]
  /** PostgreSQL and Redis used by the postgres backends (each run gets its own schema in that database). */
  services: { databaseUrl: string; redisUrl: string }
  reps: number
  /** Repetitions of each measurement on the PostgreSQL + Redis backends (the SQLite ones use `reps`). */
  backendReps: number
  ingest: {
    warmupMs: number
    closedMs: number
    openMs: number
    openRate: number
    rampStepMs: number
    rampRates: number[]
    /** A ramp step counts as sustained only with p99 at or under this. */
    sustainP99Ms: number
    connections: number
    pipelining: number
    /**
     * Before each run, wait up to this long for every request of the runs before it to be
     * answered. Set for the PostgreSQL backends, whose backlog after a 5,000/s run outlasts the
     * pauses; unset (fixed pauses only) for SQLite, as its scenarios always ran.
     */
    settleMs?: number
  }
  send: { accounts: number; messagesPerRep: number; concurrency: number; baselineConcurrency: number }
  known: { openMs: number; closedMs: number }
  /** `maxPerRun`: at most this many messages per account and run (a store slower than the limit measures its throughput sooner). */
  rateLimit: { seconds: number; limits: number[]; reps: number; maxPerRun?: number }
}

export function parseOptions(rawArgv: string[], env: Record<string, string | undefined> = {}): BenchOptions {
  const argv = joinValues(rawArgv)
  const flag = (name: string) => argv.includes(`--${name}`)
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const unknown = argv.filter((a) => !/^--(quick|profile|only=.+|out=.+|note=.+|backend=.+)$/.test(a))
  if (unknown.length > 0) throw new Error(`unknown option(s) ${unknown.join(' ')}; use --quick, --profile, --only=ingest,send,ratelimit, --backend=sqlite,postgres, --out=FILE, --note=TEXT`)
  const quick = flag('quick')
  const onlyRaw = value('only')
  const only = new Set<ScenarioName>(
    onlyRaw
      ? onlyRaw.split(',').map((s) => {
          if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`--only: unknown scenario "${s}" (ingest, send, ratelimit)`)
          return s as ScenarioName
        })
      : SCENARIOS,
  )
  const backendNames = (value('backend') ?? 'sqlite,postgres').split(',').map((b) => b.trim())
  const backends: BackendSpec[] = []
  for (const name of backendNames) {
    const specs = BACKENDS[name]
    if (!specs) throw new Error(`--backend: unknown backend "${name}" (sqlite, postgres, postgres:1, postgres:2)`)
    for (const spec of specs) if (!backends.some((b) => b.kind === spec.kind && b.processes === spec.processes)) backends.push(spec)
  }
  const rampRates = [2_500, 5_000, 7_500, 10_000, 12_500, 15_000, 20_000, 25_000, 30_000, 40_000]
  return {
    quick,
    profile: flag('profile'),
    only,
    out: value('out') ?? 'bench/RESULTS.md',
    note: value('note'),
    backends,
    services: {
      databaseUrl: env.WAGATE_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
      redisUrl: env.WAGATE_BENCH_REDIS_URL || 'redis://127.0.0.1:6379',
    },
    reps: quick ? 3 : 5,
    backendReps: quick ? 1 : 5,
    ingest: {
      warmupMs: quick ? 500 : 2_000,
      closedMs: quick ? 1_000 : 2_000,
      openMs: quick ? 1_000 : 2_000,
      openRate: 5_000,
      rampStepMs: quick ? 1_000 : 2_000,
      rampRates,
      sustainP99Ms: 100,
      connections: 64,
      pipelining: 4,
    },
    send: { accounts: 8, messagesPerRep: quick ? 2_000 : 4_000, concurrency: 64, baselineConcurrency: 128 },
    // 1 s at 5,000/s per run: the warm-up and five runs stay within the fresh status changes that
    // five send runs leave (2 per message), so every open-loop webhook is a real merge, not a repeat
    known: { openMs: quick ? 600 : 1_000, closedMs: quick ? 1_000 : 2_000 },
    rateLimit: { seconds: 2, limits: [80, 1_000], reps: quick ? 1 : 5 },
  }
}

/**
 * The options of the PostgreSQL + Redis variants: the same scenarios and `backendReps` runs each,
 * with fewer messages per run. These variants get through ~150–200 messages and ~1,800 webhooks a
 * second on two cores (a fifth to a tenth of SQLite here); at the SQLite sizes, the two variants
 * took 16 of the 20 minutes of a full run; at these, about two each (at most 400 messages per rate-limit
 * run: the 1,000/s account runs at the store's pace there). Lower ramp steps in front (a store a few times slower
 * than SQLite would fail the first one and give no figure), and a wait for the backlog of an
 * overloaded run before the next one.
 *
 * @example
 * postgresSizing(parseOptions([])).send.messagesPerRep // 800
 */
export function postgresSizing(o: BenchOptions): BenchOptions {
  return {
    ...o,
    reps: o.backendReps,
    ingest: {
      ...o.ingest,
      rampRates: [250, 500, ...o.ingest.rampRates.filter((x) => x > 500)],
      settleMs: o.quick ? 20_000 : 60_000,
      openMs: 1_000,
      closedMs: 1_000,
    },
    send: { ...o.send, messagesPerRep: o.quick ? 300 : 500 },
    known: { openMs: 600, closedMs: 1_000 },
    rateLimit: { ...o.rateLimit, seconds: 1, maxPerRun: 400 },
  }
}

/** One sentence for RESULTS.md: how the runs of a variant were sized. */
export function describeSizing(o: BenchOptions): string {
  const n = (x: number) => x.toLocaleString('en-US')
  return (
    `Each run: ingest open loop ${n(o.ingest.openRate)}/s for ${o.ingest.openMs / 1000} s and closed loop ${o.ingest.closedMs / 1000} s ` +
    `(known messages: ${o.known.openMs / 1000} s and ${o.known.closedMs / 1000} s), ${n(o.send.messagesPerRep)} messages per send run, ` +
    `${o.rateLimit.seconds} s worth of messages per rate-limit run${o.rateLimit.maxPerRun ? ` (at most ${n(o.rateLimit.maxPerRun)})` : ''}.`
  )
}

/** `--only ingest` → `--only=ingest` for the options that take a value. */
function joinValues(argv: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    const next = argv[i + 1]
    if (VALUE_OPTIONS.some((o) => a === `--${o}`) && next !== undefined && !next.startsWith('--')) {
      out.push(`${a}=${next}`)
      i++
    } else out.push(a)
  }
  return out
}
