import { optionsFromEnv } from './env-config.js'
import { createMetaSimulator } from './index.js'

/**
 * Runs the Meta simulator as its own process (benchmarks): `tsx src/simulators/meta/main.ts`.
 * Configuration comes from SIM_* variables (see env-config.ts); accounts can also be added later
 * through `POST /_sim/accounts`. The first line printed is the base URL.
 *
 * @example
 * SIM_PORT=4010 SIM_PHONE_NUMBER_ID=1001 SIM_DISPLAY_PHONE_NUMBER=15550001001 SIM_ACCESS_TOKEN=tok \
 *   SIM_APP_SECRET=sec SIM_WEBHOOK_URL=http://127.0.0.1:3000/webhooks/meta npx tsx src/simulators/meta/main.ts
 */
const sim = createMetaSimulator(optionsFromEnv(process.env))
await sim.start()
process.stdout.write(`${sim.url}\n`)
process.stderr.write(`meta simulator ready; Graph base URL ${sim.graphUrl}\n`)

const shutdown = () => {
  void sim.stop().then(() => process.exit(0))
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
