import { z } from 'zod'
import { defined, sinchSimAppSchema } from './control-routes.js'
import { createSinchSimulator } from './simulator.js'
import type { SinchSimApp } from './types.js'

/**
 * Runs the Sinch simulator on its own: `tsx src/simulators/sinch/main.ts`.
 * Env: SINCH_SIM_PORT (default 4003), SINCH_SIM_HOST (127.0.0.1), SINCH_SIM_SEED, SINCH_SIM_TOKEN_TTL,
 * SINCH_SIM_APPS (JSON array of SinchSimApp). Apps can also be added later with POST /_sim/apps.
 */
function appsFromEnv(): SinchSimApp[] {
  const raw = process.env.SINCH_SIM_APPS
  if (!raw) return []
  return z.array(sinchSimAppSchema).parse(JSON.parse(raw)).map(defined)
}

const sim = createSinchSimulator({
  port: Number(process.env.SINCH_SIM_PORT ?? 4003),
  host: process.env.SINCH_SIM_HOST ?? '127.0.0.1',
  seed: Number(process.env.SINCH_SIM_SEED ?? 1),
  tokenTtlSeconds: Number(process.env.SINCH_SIM_TOKEN_TTL ?? 3600),
  apps: appsFromEnv(),
})

await sim.start()
process.stdout.write(`sinch simulator listening on ${sim.url} (token: ${sim.url}/oauth2/token)\n`)

const shutdown = () => void sim.stop().then(() => process.exit(0))
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
