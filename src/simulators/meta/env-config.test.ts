import { describe, expect, it } from 'vitest'
import { optionsFromEnv } from './env-config.js'

describe('optionsFromEnv', () => {
  it('reads port, timings and a single account', () => {
    const options = optionsFromEnv({
      SIM_PORT: '4010',
      SIM_SEED: '9',
      SIM_SENT_MS: '1',
      SIM_READ_MS: '3',
      SIM_SHUFFLE_STATUSES: '1',
      SIM_WEBHOOK_RETRY_DELAYS_MS: '10,20',
      SIM_PHONE_NUMBER_ID: '1001',
      SIM_DISPLAY_PHONE_NUMBER: '15550001001',
      SIM_ACCESS_TOKEN: 'tok',
      SIM_APP_SECRET: 'sec',
      SIM_WEBHOOK_URL: 'http://127.0.0.1:3000/webhooks/meta',
    })
    expect(options).toMatchObject({
      port: 4010,
      seed: 9,
      timings: { sentMs: 1, readMs: 3 },
      shuffleStatuses: true,
      webhookRetryDelaysMs: [10, 20],
      accounts: [{ phoneNumberId: '1001', accessToken: 'tok', appSecret: 'sec' }],
    })
  })
  it('reads a JSON list of accounts and refuses bad values', () => {
    const account = { phoneNumberId: '1', displayPhoneNumber: '1555', accessToken: 't', appSecret: 's', webhookUrl: 'http://127.0.0.1:1/x' }
    expect(optionsFromEnv({ SIM_ACCOUNTS: JSON.stringify([account]) }).accounts).toEqual([account])
    expect(() => optionsFromEnv({ SIM_PORT: 'abc' })).toThrow(/SIM_PORT/)
    expect(() => optionsFromEnv({ SIM_ACCOUNTS: '[{}]' })).toThrow(/SIM_ACCOUNTS/)
  })
})
