import type { Simulator, StatusTimings } from '../types.js'

/**
 * One business phone number the fake Graph API knows, with the secrets Meta would hold for it.
 *
 * @example
 * const account: MetaSimAccount = {
 *   phoneNumberId: '106540352242922', displayPhoneNumber: '15550783881',
 *   accessToken: 'EAAG-test', appSecret: 'app-secret', webhookUrl: 'http://127.0.0.1:3000/webhooks/meta',
 * }
 */
export interface MetaSimAccount {
  phoneNumberId: string
  /** The business number as Meta prints it in `metadata.display_phone_number` (digits). */
  displayPhoneNumber: string
  accessToken: string
  /** Key of the X-Hub-Signature-256 HMAC on every webhook. */
  appSecret: string
  /** Where status and message webhooks for this number are posted. */
  webhookUrl: string
  /** WhatsApp Business Account id, used as `entry[].id`; derived from the phone number id when absent. */
  wabaId?: string
}

/** A message template as `GET /<WABA_ID>/message_templates` lists it. */
export interface MetaTemplate {
  name: string
  language: string
  status?: 'APPROVED' | 'PENDING' | 'REJECTED' | 'PAUSED' | 'DISABLED'
  category: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION'
  components: Array<Record<string, unknown>>
}

export interface MetaSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number
  host?: string
  accounts?: MetaSimAccount[]
  timings?: Partial<StatusTimings>
  /** Seeds fault picking and status shuffling so a failing run can be replayed. */
  seed?: number
  /** Delays between webhook redelivery attempts when the gateway does not answer 2xx. */
  webhookRetryDelaysMs?: number[]
  /** Most webhook requests open at once (the rest wait their turn); unset: no bound. */
  webhookMaxInFlight?: number
  /** Version used in `graphUrl` (default `v25.0`); requests under any `vNN.N` are served. */
  apiVersion?: string
  /** Post sent/delivered/read in a random (seeded) order, as real deliveries sometimes arrive. */
  shuffleStatuses?: boolean
  /**
   * Templates listed by the message_templates route. When given, template sends are also checked
   * against it (unknown name/language → 132001); when absent a small default list is served and any
   * template name is accepted.
   */
  templates?: MetaTemplate[]
  /**
   * Enforce the 24-hour customer-service window (meta.md §5): a free-form send to a contact who has
   * not written to the number (through `inbound()`) in the last 24 h is accepted, then fails with a
   * `failed` status carrying 131047 "Re-engagement message". Templates always pass. Default false.
   */
  enforceWindow?: boolean
}

/**
 * The Meta Cloud API simulator. `accountKey` in the {@link Simulator} methods is the phone number id.
 */
export interface MetaSimulator extends Simulator {
  /** `url` + `/` + apiVersion: what a gateway uses as its Graph base URL. */
  readonly graphUrl: string
  addAccount(account: MetaSimAccount): void
  /** The templates the message_templates route lists (a copy), e.g. to preload a registry without an API call. */
  templates(): MetaTemplate[]
}
