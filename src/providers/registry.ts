import type { ProviderAdapter, ProviderId } from './types.js'
import { createGupshupAdapter } from './gupshup/index.js'
import { createMetaAdapter } from './meta/index.js'
import { createSinchAdapter } from './sinch/index.js'
import { createTwilioAdapter } from './twilio/index.js'

/**
 * The adapters this build knows, by provider id. Each is created once per process: adapters may
 * hold caches (Sinch OAuth tokens) that every account of the provider shares.
 *
 * @example
 * const adapters = createRegistry()
 * adapters.get('meta')?.capabilities('whatsapp')
 */
export type AnyAdapter = ProviderAdapter<unknown>

export interface Registry {
  get(id: string): AnyAdapter | undefined
  ids(): ProviderId[]
}

export function createRegistry(extra: AnyAdapter[] = []): Registry {
  const adapters = new Map<string, AnyAdapter>()
  const builtIn = [createMetaAdapter(), createTwilioAdapter(), createSinchAdapter(), createGupshupAdapter()] as unknown as AnyAdapter[]
  for (const adapter of [...builtIn, ...extra]) adapters.set(adapter.id, adapter)
  return {
    get: (id) => adapters.get(id),
    ids: () => [...adapters.keys()] as ProviderId[],
  }
}
