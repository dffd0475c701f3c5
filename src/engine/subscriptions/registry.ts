import type { Store } from '../../store/db.js'
import type { SubscriptionService } from './service.js'

/**
 * Finds the subscription service of a gateway from its store. The HTTP routes receive only the
 * shared app dependencies (of which the store is one), while the service needs the instance secret
 * box, which lives in the gateway; binding it to the store keeps both sides' wiring to one line.
 *
 * @example
 * bindSubscriptions(store, service)
 * subscriptionsOf(store)?.list(tenantId)
 */
const services = new WeakMap<Store, SubscriptionService>()

export function bindSubscriptions(store: Store, service: SubscriptionService): void {
  services.set(store, service)
}

export function subscriptionsOf(store: Store): SubscriptionService | undefined {
  return services.get(store)
}
