import type { Store } from '../../store/db.js'
import type { RuleService } from './service.js'

/**
 * Finds the rule service of a gateway from its store, as the subscription routes do: the routes get
 * the shared app dependencies, the service needs the secret box and the message service.
 *
 * @example
 * bindRules(store, service)
 * rulesOf(store)?.list(tenantId)
 */
const services = new WeakMap<Store, RuleService>()

export function bindRules(store: Store, service: RuleService): void {
  services.set(store, service)
}

export function rulesOf(store: Store): RuleService | undefined {
  return services.get(store)
}
