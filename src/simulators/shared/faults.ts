import type { FaultKind, FaultRule } from '../types.js'

/**
 * Decides, call by call, whether an injected fault applies. Deterministic for a given seed so a
 * failing test can be replayed.
 *
 * @example
 * const faults = createFaultPicker(42)
 * faults.set([{ kind: 'server_error', probability: 0.3 }])
 * const fault = faults.pick('15551234567') // FaultRule | undefined
 */
export interface FaultPicker {
  set(rules: FaultRule[]): void
  clear(): void
  /** The first rule that applies to a send to `recipient`, consuming one of its `count`. */
  pick(recipient: string): FaultRule | undefined
  /** True when a rule of this kind is configured for the recipient, without consuming it. */
  has(kind: FaultKind, recipient: string): boolean
}

export function createFaultPicker(seed = 1): FaultPicker {
  let rules: Array<FaultRule & { used: number }> = []
  const random = mulberry32(seed)
  const digits = (v: string) => v.replace(/\D/g, '')
  const matches = (rule: FaultRule, recipient: string) =>
    !rule.recipients || rule.recipients.some((r) => digits(r) === digits(recipient) || r === recipient)
  return {
    set(next) {
      rules = next.map((r) => ({ ...r, used: 0 }))
    },
    clear() {
      rules = []
    },
    pick(recipient) {
      for (const rule of rules) {
        if (rule.count !== undefined && rule.used >= rule.count) continue
        if (!matches(rule, recipient)) continue
        if (random() >= (rule.probability ?? 1)) continue
        rule.used++
        const { used: _used, ...plain } = rule
        return plain
      }
      return undefined
    },
    has(kind, recipient) {
      return rules.some((r) => r.kind === kind && matches(r, recipient) && (r.count === undefined || r.used < r.count))
    },
  }
}

/** Small seeded PRNG (public-domain mulberry32 algorithm). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
