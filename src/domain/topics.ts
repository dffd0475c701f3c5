/**
 * Event topics (DESIGN §9): dot-separated tokens, matched with NATS rules (`*` one token, `>` the
 * rest). Values put into a topic are escaped so a `.`, a wildcard or white space inside a value can
 * never split or forge a topic. Pure.
 *
 * @example
 * topic('incoming', 'acme.br', 'from', '+5535987654321') // 'incoming.acme%2Ebr.from.+5535987654321'
 * matchTopic('incoming.*.from.>', 'incoming.acme.from.+1555') // true
 */
const ESCAPES: Record<string, string> = { '%': '%25', '.': '%2E', '*': '%2A', '>': '%3E' }

export function escapeToken(value: string): string {
  if (value === '') return '%00'
  return value.replace(/[%.*>\s]/g, (c) => ESCAPES[c] ?? hexEscape(c.charCodeAt(0)))
}

/** `%XX` for a byte-sized code; `%uXXXX` above it (U+3000, U+2028…), so the width is never ambiguous. */
function hexEscape(code: number): string {
  const hex = code.toString(16).toUpperCase()
  return code < 0x100 ? `%${hex.padStart(2, '0')}` : `%u${hex.padStart(4, '0')}`
}

export function unescapeToken(token: string): string {
  if (token === '%00') return ''
  return token.replace(/%u([0-9A-F]{4})|%([0-9A-F]{2})/g, (_, wide: string | undefined, byte: string | undefined) =>
    String.fromCharCode(parseInt(wide ?? byte ?? '', 16)),
  )
}

/** Builds a topic from a fixed head word and value tokens (each escaped). */
export function topic(head: string, ...values: string[]): string {
  return [head, ...values.map(escapeToken)].join('.')
}

export function matchTopic(pattern: string, subject: string): boolean {
  const p = pattern.split('.')
  const s = subject.split('.')
  for (let i = 0; i < p.length; i++) {
    const tok = p[i]
    if (tok === '>') return s.length > i
    if (i >= s.length) return false
    if (tok !== '*' && tok !== s[i]) return false
  }
  return p.length === s.length
}

/** A pattern is valid when no token is empty and `>` only stands last. */
export function isValidPattern(pattern: string): boolean {
  const p = pattern.split('.')
  return p.every((t, i) => t.length > 0 && !/\s/.test(t) && (t !== '>' || i === p.length - 1))
}
