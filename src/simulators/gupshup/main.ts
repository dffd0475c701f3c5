import { parseArgs } from 'node:util'
import { createGupshupSimulator } from './simulator.js'
import type { GupshupSimApp } from './types.js'

/**
 * Runs the Gupshup simulator as its own process (benchmarks, manual tries).
 *
 * @example
 * npx tsx src/simulators/gupshup/main.ts --port 4004 \
 *   --app 'DemoApp|demo-key|917834811114|http://127.0.0.1:3000/webhooks/gupshup/demo/tok'
 * # more apps: POST /_sim/apps {appName, apiKey, sourceNumber, callbackUrl}
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4004' },
    host: { type: 'string', default: '127.0.0.1' },
    app: { type: 'string', multiple: true, default: [] },
    seed: { type: 'string' },
  },
})

function parseApp(spec: string): GupshupSimApp {
  const [appName, apiKey, sourceNumber, callbackUrl] = spec.split('|')
  if (!appName || !apiKey || !sourceNumber || !callbackUrl) {
    throw new Error(`--app wants 'appName|apiKey|sourceNumber|callbackUrl', got '${spec}'`)
  }
  return { appName, apiKey, sourceNumber, callbackUrl }
}

const sim = createGupshupSimulator({
  host: values.host,
  port: Number(values.port),
  apps: values.app.map(parseApp),
  ...(values.seed !== undefined && { seed: Number(values.seed) }),
})
await sim.start()
process.stdout.write(`gupshup simulator listening on ${sim.url}\n`)

const shutdown = () => {
  void sim.stop().then(() => process.exit(0))
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
