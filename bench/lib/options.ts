/**
 * Command-line options and the two run profiles: the full run (median of 5, a few minutes on two
 * cores) and `--quick` (median of 3 on shorter phases, about a minute: a smoke test of the harness,
 * not figures to quote).
 *
 * @example
 * parseOptions(['--quick', '--only=ingest']).reps // 3
 */
export type ScenarioName = 'ingest' | 'send' | 'ratelimit'
export const SCENARIOS: readonly ScenarioName[] = ['ingest', 'ratelimit', 'send']

export interface BenchOptions {
  quick: boolean
  /** Run the gateway with --cpu-prof and summarize where its time went. */
  profile: boolean
  only: Set<ScenarioName>
  out: string
  /** Free-form note printed at the top of RESULTS.md (e.g. "preliminary: machine shared"). */
  note: string | undefined
  reps: number
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
  }
  send: { accounts: number; messagesPerRep: number; concurrency: number; baselineConcurrency: number }
  known: { openMs: number; closedMs: number }
  rateLimit: { seconds: number; limits: number[]; reps: number }
}

export function parseOptions(argv: string[]): BenchOptions {
  const flag = (name: string) => argv.includes(`--${name}`)
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const unknown = argv.filter((a) => !/^--(quick|profile|only=.+|out=.+|note=.+)$/.test(a))
  if (unknown.length > 0) throw new Error(`unknown option(s) ${unknown.join(' ')}; use --quick, --profile, --only=ingest,send,ratelimit, --out=FILE, --note=TEXT`)
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
  const rampRates = [1_000, 2_500, 5_000, 7_500, 10_000, 12_500, 15_000, 17_500, 20_000, 25_000, 30_000, 40_000]
  return {
    quick,
    profile: flag('profile'),
    only,
    out: value('out') ?? 'bench/RESULTS.md',
    note: value('note'),
    reps: quick ? 3 : 5,
    ingest: {
      warmupMs: quick ? 500 : 2_000,
      closedMs: quick ? 1_000 : 3_000,
      openMs: quick ? 1_000 : 3_000,
      openRate: 5_000,
      rampStepMs: quick ? 1_000 : 2_500,
      rampRates,
      sustainP99Ms: 100,
      connections: 64,
      pipelining: 4,
    },
    send: { accounts: 8, messagesPerRep: quick ? 2_000 : 6_000, concurrency: 64, baselineConcurrency: 128 },
    known: { openMs: quick ? 600 : 2_000, closedMs: quick ? 1_000 : 2_000 },
    rateLimit: { seconds: quick ? 2 : 3, limits: [80, 1_000], reps: quick ? 1 : 5 },
  }
}
