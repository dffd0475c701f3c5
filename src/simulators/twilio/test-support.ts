import twilio from 'twilio'
import type RequestClient from 'twilio/lib/base/RequestClient.js'
import type { CapturedRequest } from '../../../test/harness/capture-server.js'
import type { TwilioSimAccount } from './accounts.js'

/**
 * Test helpers: a `twilio` npm client whose requests go to the simulator instead of
 * api.twilio.com, and parsing of captured webhooks.
 */

/** Rewrites every request of the official client to the simulator's base URL (loopback only). */
class LoopbackRequestClient extends twilio.RequestClient {
  constructor(private readonly baseUrl: string) {
    super()
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const original = new URL(opts.uri)
    return super.request<TData>({ ...opts, uri: this.baseUrl + original.pathname + original.search })
  }
}

/**
 * @example
 * const client = twilioClientFor(sim.url, ACCOUNT.accountSid, ACCOUNT.authToken)
 * await client.messages.create({ to: 'whatsapp:+31612345678', from: 'whatsapp:+14155238886', body: 'hi' })
 */
export function twilioClientFor(baseUrl: string, username: string, password: string, accountSid?: string) {
  return twilio(username, password, {
    httpClient: new LoopbackRequestClient(baseUrl),
    ...(accountSid ? { accountSid } : {}),
  })
}

/** A captured form webhook as the plain object `validateRequest` expects. */
export function formObject(request: CapturedRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(request.raw))
}

export const ACCOUNT: TwilioSimAccount = {
  accountSid: 'AC' + 'a1'.repeat(16),
  authToken: 'token-of-account-one',
  apiKeys: [{ sid: 'SK' + 'b2'.repeat(16), secret: 'api-key-secret' }],
  numbers: ['+14155238886', '+14155550100'],
  inboundWebhookUrl: 'http://127.0.0.1:1/unused',
  optedOut: ['+15005550009'],
}

export async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
