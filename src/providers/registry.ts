import type { ProviderAdapter, ProviderId } from './types.js'
import { createMetaAdapter } from './meta/index.js'

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
  for (const adapter of [createMetaAdapter() as unknown as AnyAdapter, ...extra]) adapters.set(adapter.id, adapter)
  return {
    get: (id) => adapters.get(id),
    ids: () => [...adapters.keys()] as ProviderId[],
  }
}
