import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { freePort } from '../../test/harness/net.js'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'

/**
 * Child processes of a benchmark: the gateway (`serve`), the Meta simulator and the bare baseline
 * route, each in its own Node process so that the load generator (this process) does not share
 * their event loop. The gateway and the simulator run compiled (`node dist/…js`, what
 * `npm run serve:prod` runs; `npm run bench` builds first) when dist/ is at least as new as every
 * file under src/; otherwise, and for the bare route (not part of src/), as
 * `node --import tsx <script>` rather than through the `tsx` binary, which would add a wrapper
 * process between us and the one whose memory and CPU we read.
 */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface Runtime {
  compiled: boolean
  /** For RESULTS.md: what ran the gateway and why. */
  description: string
}

function newestSourceMs(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

/**
 * The Node flags of `npm run serve:prod` (package.json), so that the compiled gateway under test
 * runs exactly as production runs it (e.g. its heap cap) and the two cannot drift apart.
 */
export function productionNodeFlags(packageJson = readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')): string[] {
  const script = (JSON.parse(packageJson) as { scripts?: Record<string, string> }).scripts?.['serve:prod'] ?? ''
  const words = script.split(/\s+/).filter(Boolean)
  if (words[0] !== 'node') throw new Error(`serve:prod does not start with node: ${script}`)
  return words.slice(1).filter((word) => word.startsWith('--'))
}

let runtime: Runtime | undefined
/** Compiled when `npm run build` output exists and no source file changed since (checked once per run). */
export function gatewayRuntime(): Runtime {
  if (runtime) return runtime
  const built = join(REPO_ROOT, 'dist', 'cli.js')
  if (!existsSync(built)) {
    runtime = { compiled: false, description: 'src/ through tsx (no dist/: run `npm run build`, as `npm run bench` does)' }
  } else if (newestSourceMs(join(REPO_ROOT, 'src')) > statSync(built).mtimeMs) {
    runtime = { compiled: false, description: 'src/ through tsx (dist/ is older than src/: rebuild with `npm run build`)' }
  } else {
    runtime = { compiled: true, description: `compiled: \`node ${productionNodeFlags().join(' ')} dist/cli.js serve\` (as \`npm run serve:prod\`)` }
  }
  return runtime
}

/** The script to run for a source file under src/: its dist/ build when the gateway runs compiled. */
function scriptFor(source: string): string {
  return gatewayRuntime().compiled ? source.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js') : source
}

export interface Child {
  name: string
  pid: number
  url: string
  /** Last lines the process wrote to stdout and stderr (diagnostics when something fails). */
  stderrTail(): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>
}

export interface SpawnOptions {
  name: string
  script: string
  args?: string[]
  env: Record<string, string>
  /** Write a V8 CPU profile into this directory when the process exits. */
  cpuProfDir?: string
  /** Node flags when the script is compiled JavaScript (default `--enable-source-maps`). */
  compiledNodeFlags?: string[]
}

export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString('hex')
}


function spawnNode(opts: SpawnOptions): { child: ChildProcess; tail: () => string; firstLine: Promise<string> } {
  const nodeArgs = opts.script.endsWith('.js') ? [...(opts.compiledNodeFlags ?? ['--enable-source-maps'])] : ['--import', 'tsx']
  // default file names: one profile per thread (tsx runs its loader on a worker thread)
  if (opts.cpuProfDir) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir)
  const child = spawn(process.execPath, [...nodeArgs, opts.script, ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let tail = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4000)
  })
  let out = ''
  child.stdout?.setEncoding('utf8')
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      // the gateway logs (pino) to stdout: keep its tail with stderr's for diagnostics
      tail = (tail + chunk).slice(-4000)
      if (out.length > 10_000) return
      out += chunk
      const complete = out.split('\n').slice(0, -1)
      const line = complete.find((l) => l.trim() !== '')
      if (line !== undefined) resolve(line.trim())
    })
    child.once('exit', (code, signal) => reject(new Error(`${opts.name} exited (${code ?? signal}) before it was ready:\n${tail}`)))
  })
  firstLine.catch(() => undefined)
  return { child, tail: () => tail, firstLine }
}

function stopper(child: ChildProcess) {
  return (graceMs = 15_000) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs)
      child.once('exit', () => {
        clearTimeout(kill)
        resolve()
      })
      child.kill('SIGTERM')
    })
}

async function waitHttp(url: string, child: ChildProcess, tail: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before ${url} answered:\n${tail()}`)
    try {
      const res = await request(url, { headersTimeout: 2_000, bodyTimeout: 2_000 })
      await res.body.dump()
      if (res.statusCode < 500) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${tail()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export interface GatewayProcess extends Child {
  apiKey: string
  dataDir: string
}

/**
 * The gateway's `serve` (compiled or src/, see gatewayRuntime) on a fresh data directory; resolves
 * once /healthz answers. Processes that share a PostgreSQL store must share `apiKey` and `secretKey`
 * (WAGATE_SECRET_KEY decrypts the stored credentials); each gets fresh ones otherwise.
 */
export async function startGateway(opts: { dataDir: string; cpuProfDir?: string; env?: Record<string, string>; apiKey?: string; secretKey?: string; name?: string }): Promise<GatewayProcess> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const apiKey = opts.apiKey ?? `bench_${randomSecret(16)}`
  const { child, tail } = spawnNode({
    name: opts.name ?? 'gateway',
    script: scriptFor('src/cli.ts'),
    compiledNodeFlags: productionNodeFlags(),
    args: ['serve'],
    env: {
      WAGATE_PORT: String(port),
      WAGATE_HOST: '127.0.0.1',
      WAGATE_DATA_DIR: opts.dataDir,
      WAGATE_API_KEY: apiKey,
      WAGATE_SECRET_KEY: opts.secretKey ?? randomSecret(32),
      WAGATE_LOG_LEVEL: 'warn',
      WAGATE_PUBLIC_URL: url,
      ...opts.env,
    },
    ...(opts.cpuProfDir ? { cpuProfDir: opts.cpuProfDir } : {}),
  })
  try {
    await waitHttp(`${url}/healthz`, child, tail)
  } catch (err) {
    // a gateway that never answered must not outlive the run
    await stopper(child)(2_000)
    throw err
  }
  return { name: opts.name ?? 'gateway', pid: child.pid ?? -1, url, apiKey, dataDir: opts.dataDir, stderrTail: tail, stop: stopper(child) }
}

/** The Meta simulator as its own process (`src/simulators/meta/main.ts`); its first stdout line is its URL. */
export async function startMetaSimulator(env: Record<string, string>): Promise<Child> {
  const { child, tail, firstLine } = spawnNode({ name: 'simulator', script: scriptFor('src/simulators/meta/main.ts'), env: { SIM_PORT: '0', ...env } })
  const url = await firstLine
  await waitHttp(`${url}/_sim/stats`, child, tail)
  return { name: 'simulator', pid: child.pid ?? -1, url, stderrTail: tail, stop: stopper(child) }
}

/** The bare webhook route (bench/baseline/bare-webhook.ts). */
export async function startBareRoute(appSecret: string): Promise<Child> {
  const { child, tail, firstLine } = spawnNode({ name: 'bare', script: 'bench/baseline/bare-webhook.ts', env: { BARE_APP_SECRET: appSecret, BARE_PORT: '0' } })
  const url = await firstLine
  return { name: 'bare', pid: child.pid ?? -1, url, stderrTail: tail, stop: stopper(child) }
}
