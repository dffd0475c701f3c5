/**
 * A lookup table with no prototype, so keys taken from a payload (`constructor`, `__proto__`,
 * `toString`…) never find an inherited value.
 *
 * @example
 * const kinds = table({ file: 'document' })
 * kinds['constructor'] // undefined
 */
export function table<V>(entries: Record<string, V>): Readonly<Record<string, V>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, V>, entries))
}
