import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseFlags } from './cli-args.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { newApiKey } from './crypto.js'
import { createGateway, type Gateway } from './gateway.js'
import { startSandbox, type RunningSandbox } from './sandbox.js'

/**
 * `wagate serve` runs the gateway; `wagate dev` (what `npm start` runs) runs it with the in-process
 * sandbox: simulators and one ready account per provider, and prints what to try first.
 */
const HELP = `wagate — WhatsApp Business gateway

Usage:
  wagate dev                 gateway + in-process provider simulators (the sandbox)
  wagate serve [--role R]    gateway only; R (default all, overrides WAGATE_ROLE):
                               all     API, webhooks and background work
                               api     API and webhooks only (no outbox worker, no deliveries)
                               worker  outbox and deliveries; HTTP has only /healthz /readyz /metrics
  wagate help

Environment (see README): WAGATE_PORT, WAGATE_HOST, WAGATE_PUBLIC_URL, WAGATE_DATA_DIR, WAGATE_API_KEY,
WAGATE_SECRET_KEY, WAGATE_LOG_LEVEL, WAGATE_DATABASE_URL, WAGATE_REDIS_URL, WAGATE_ROLE …`

async function main(argv: string[]) {
  const [command = 'help', ...rest] = argv
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(HELP)
    return
  }
  if (command !== 'dev' && command !== 'serve') {
    console.error(`unknown command "${command}"\n\n${HELP}`)
    process.exitCode = 2
    return
  }
  const flags = parseFlags(rest)
  if ('error' in flags) {
    console.error(`${flags.error}\n\n${HELP}`)
    process.exitCode = 2
    return
  }
  const role = flags.role
  let config: Config
  try {
    config = loadConfig({ ...process.env, ...(role ? { WAGATE_ROLE: role } : {}) })
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message)
      process.exitCode = 1
      return
    }
    throw err
  }
  const dev = command === 'dev'
  if (dev && config.WAGATE_ROLE !== 'all') {
    console.error(`wagate dev runs every role in one process; for role "${config.WAGATE_ROLE}" use wagate serve --role ${config.WAGATE_ROLE}`)
    process.exitCode = 2
    return
  }
  // The sandbox is for trying things at a terminal: request logs would bury the printed curl lines.
  if (dev && !process.env.WAGATE_LOG_LEVEL) config = { ...config, WAGATE_LOG_LEVEL: 'warn' }
  // Trying webhooks at a terminal means a receiver on this machine: the sandbox allows loopback targets.
  if (dev && !process.env.WAGATE_ALLOW_PRIVATE_WEBHOOKS) config = { ...config, WAGATE_ALLOW_PRIVATE_WEBHOOKS: true }
  let devKey: string | undefined
  if (dev && !config.WAGATE_API_KEY) {
    // The sandbox keeps its key beside its data (0600) so that every start can print a working curl.
    devKey = sandboxKey(config.WAGATE_DATA_DIR)
    config = { ...config, WAGATE_API_KEY: devKey }
  }

  let gateway: Gateway
  try {
    gateway = await createGateway({ config })
  } catch (err) {
    console.error(`wagate could not start: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
    return
  }
  let url: string
  try {
    url = await gateway.listen()
  } catch (err) {
    const code = (err as { code?: string }).code
    console.error(code === 'EADDRINUSE' ? `port ${config.WAGATE_PORT} is in use; set WAGATE_PORT to another port` : `wagate could not listen: ${String(err)}`)
    await gateway.close()
    process.exitCode = 1
    return
  }
  let sandbox: RunningSandbox | undefined
  if (dev) sandbox = await startSandbox(gateway)

  const key = devKey ?? config.WAGATE_API_KEY ?? gateway.generatedKey
  printBanner(url, key, gateway, sandbox, Boolean(gateway.generatedKey))

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    gateway.logger.info({ signal }, 'stopping')
    await sandbox?.stop()
    await gateway.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
}

function sandboxKey(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true })
  const file = join(dataDir, 'sandbox-api-key')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const key = newApiKey()
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  return key
}

function printBanner(url: string, key: string | undefined, gateway: Gateway, sandbox: RunningSandbox | undefined, generated: boolean) {
  const auth = key ? `-H "Authorization: Bearer ${key}"` : '-H "Authorization: Bearer <your API key>"'
  const lines = [
    '',
    `wagate is listening on ${url}  (role: ${gateway.config.WAGATE_ROLE}, store: ${gateway.config.WAGATE_DATABASE_URL ? `PostgreSQL at ${describeDatabase(gateway.config.WAGATE_DATABASE_URL)}` : `SQLite in ${gateway.config.WAGATE_DATA_DIR}`})`,
    gateway.config.WAGATE_ROLE === 'worker' ? `  Health:    ${url}/healthz, ${url}/readyz, ${url}/metrics (no API in the worker role)` : `  API docs:  ${url}/docs`,
  ]
  if (key && (sandbox || generated)) lines.push(`  API key:   ${key}${generated ? '   (shown once: it is stored hashed)' : ''}`)
  else if (!key) lines.push('  API key:   the one printed at first start, or set WAGATE_API_KEY')
  if (sandbox && sandbox.accounts.length > 0) {
    const account = sandbox.accounts[0]
    lines.push(
      `  Sandbox accounts: ${sandbox.accounts.map((a) => `${a.row.name} (${a.row.provider})`).join(', ')}`,
      '',
      'Send a WhatsApp message through the simulated provider:',
      `  curl -s -X POST ${url}/v1/messages ${auth} -H "Content-Type: application/json" -d '{"account":"${account?.row.name}","to":"+14155550123","type":"text","text":"Hello from wagate"}'`,
      'A second later, see it delivered and read (status and history):',
      `  curl -s "${url}/v1/messages?account=${account?.row.name}&direction=out&limit=1" ${auth}`,
      'Make the contact answer, then read the event log:',
      `  curl -s -X POST ${url}/sandbox/${account?.row.name}/inbound ${auth} -H "Content-Type: application/json" -d '{"from":"+14155550123","text":"Hi back"}'`,
      `  curl -s "${url}/v1/events?limit=20" ${auth}`,
      '',
      'Numbers ending in 0000 are not on WhatsApp in the sandbox; +55 mobiles answer from their eight-digit wa_id.',
    )
  }
  console.log(lines.join('\n'))
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})

/** Host, port and database of a PostgreSQL URL, without user or password, for the banner. */
function describeDatabase(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`
  } catch {
    return 'the configured URL'
  }
}
