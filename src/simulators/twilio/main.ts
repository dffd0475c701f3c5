import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { twilioSimAccountSchema, type TwilioSimAccount } from './accounts.js'
import { createTwilioSimulator } from './simulator.js'

/**
 * Runs the Twilio simulator as its own process (benchmarks, manual testing).
 *
 * @example
 * npx tsx src/simulators/twilio/main.ts --port 4010 --accounts accounts.json
 * TWILIO_SIM_INBOUND_URL=http://127.0.0.1:3000/webhooks/twilio/demo npx tsx src/simulators/twilio/main.ts
 *
 * Without --accounts (a JSON array of accounts) one demo account is created and printed.
 * Drive it over HTTP with the /_sim/* routes.
 */

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.TWILIO_SIM_PORT ?? '4010' },
    host: { type: 'string', default: process.env.TWILIO_SIM_HOST ?? '127.0.0.1' },
    accounts: { type: 'string' },
    'public-url': { type: 'string' },
    seed: { type: 'string' },
  },
})

const DEMO_ACCOUNT: TwilioSimAccount = {
  accountSid: 'AC' + '0'.repeat(31) + '1',
  authToken: 'sim-auth-token',
  numbers: ['+14155238886'],
  inboundWebhookUrl: process.env.TWILIO_SIM_INBOUND_URL ?? 'http://127.0.0.1:3000/webhooks/twilio/demo',
}

function loadAccounts(file: string | undefined): TwilioSimAccount[] {
  if (!file) return [DEMO_ACCOUNT]
  return z.array(twilioSimAccountSchema).parse(JSON.parse(readFileSync(file, 'utf8')))
}

const accounts = loadAccounts(values.accounts)
const simulator = createTwilioSimulator({
  port: Number(values.port),
  host: values.host,
  accounts,
  ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
  ...(values.seed ? { seed: Number(values.seed) } : {}),
})
await simulator.start()
console.log(`twilio simulator listening on ${simulator.url}`)
for (const account of accounts) console.log(`  account ${account.accountSid} numbers ${account.numbers.join(', ')}`)

const shutdown = () => {
  void simulator.stop().then(() => process.exit(0))
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
