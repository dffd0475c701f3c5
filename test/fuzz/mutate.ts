import fc from 'fast-check'

/**
 * Structure-aware mutations for fuzzing: a valid document (a captured webhook, a valid API request)
 * is changed in a few places — a value deleted, replaced by hostile JSON, retyped, a prototype key
 * injected, an array emptied or flooded — so the input stays close enough to the real thing to get
 * past the first checks and reach the deep code that a random blob never reaches.
 *
 * @example
 * fc.assert(fc.property(mutatedJson(fixture), (doc) => { adapter.parse(account, request(JSON.stringify(doc))) }))
 */

type Path = Array<string | number>

/** Values that break naive code: empty, huge, special numbers as text, prototype names, lone surrogates. */
export const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-1',
    '1e400',
    'NaN',
    'Infinity',
    '9'.repeat(40),
    '99999999999999999999',
    '-99999999999999',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    '\u0000',
    '\ud800',
    '\u202e',
    '+',
    '+0',
    'US.',
    '.',
    'x'.repeat(5000),
    null,
    true,
    false,
    0,
    -1,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER,
    2 ** 63,
    1e21,
    0.5,
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer(),
  fc.double({ noNaN: true }),
)

export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileScalar },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constant([]) },
  { weight: 1, arbitrary: fc.constant({}) },
)

type Op =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'retype'; at: number }
  | { kind: 'inject'; at: number; key: string; value: unknown }
  | { kind: 'flood'; at: number; times: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: hostileJson }),
  fc.record({ kind: fc.constant('retype' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('inject' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'id', 'type', 'status', 'from', ''), fc.string({ maxLength: 12 })), value: hostileJson }),
  fc.record({ kind: fc.constant('flood' as const), at: fc.nat(), times: fc.integer({ min: 2, max: 60 }) }),
)

function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix)
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...prefix, i], out))
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out)
  return out
}

/** Sets an own property even for `__proto__`, as JSON.parse would (plain assignment would change the prototype). */
function setOwn(target: Record<string | number, unknown>, key: string | number, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

function retyped(value: unknown): unknown {
  if (typeof value === 'string') return value === '' ? 0 : Number.isNaN(Number(value)) ? [value] : Number(value)
  if (typeof value === 'number') return String(value)
  if (typeof value === 'boolean') return value ? 'true' : 0
  if (value === null) return {}
  if (Array.isArray(value)) return Object.fromEntries(value.map((v, i) => [String(i), v]))
  return Object.values(value as object)
}

function apply(doc: unknown, mutation: Op): unknown {
  const paths = pathsOf(doc)
  const path = paths[mutation.at % paths.length] as Path
  if (path.length === 0 && mutation.kind === 'delete') return doc
  const root = { value: doc } as Record<string | number, unknown>
  let parent: Record<string | number, unknown> = root
  let key: string | number = 'value'
  for (const step of path) {
    parent = parent[key] as Record<string | number, unknown>
    key = step
  }
  const current = parent[key]
  switch (mutation.kind) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1)
      else delete parent[key]
      break
    case 'replace':
      setOwn(parent, key, structuredClone(mutation.value))
      break
    case 'retype':
      setOwn(parent, key, retyped(current))
      break
    case 'inject':
      if (current !== null && typeof current === 'object' && !Array.isArray(current)) setOwn(current as Record<string, unknown>, mutation.key, structuredClone(mutation.value))
      else if (Array.isArray(current)) current.push(structuredClone(mutation.value))
      break
    case 'flood':
      if (Array.isArray(current) && current.length > 0) setOwn(parent, key, Array.from({ length: mutation.times }, () => structuredClone(current[0])))
      else if (typeof current === 'string') setOwn(parent, key, current.repeat(mutation.times))
      break
  }
  return root.value
}

/** The document changed by one to four mutations. */
export function mutatedJson(doc: unknown): fc.Arbitrary<unknown> {
  return fc.array(op, { minLength: 1, maxLength: 4 }).map((ops) => ops.reduce<unknown>((d, o) => apply(d, o), structuredClone(doc)))
}

/** A form body (`a=1&b=2`) as its pairs, changed the same way: pairs dropped, values replaced, keys repeated or added. */
export function mutatedForm(body: string): fc.Arbitrary<Array<[string, string]>> {
  const pairs = [...new URLSearchParams(body)]
  const text = fc.oneof(hostileScalar.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')), fc.string({ maxLength: 30 }))
  const formOp = fc.oneof(
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('value' as const), at: fc.nat(), value: text }),
    fc.record({ kind: fc.constant('key' as const), at: fc.nat(), value: text }),
    fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), value: text }),
    fc.record({
      kind: fc.constant('add' as const),
      at: fc.nat(),
      key: fc.constantFrom('NumMedia', 'MediaUrl0', 'MediaContentType0', 'Latitude', 'Longitude', 'MessageStatus', 'ErrorCode', 'WaId', 'From', 'To', 'MessageSid', 'ButtonPayload', 'OptOutType', 'ExternalUserId', '__proto__'),
      value: text,
    }),
  )
  return fc.array(formOp, { minLength: 1, maxLength: 4 }).map((ops) => {
    const out = pairs.map(([k, v]) => [k, v] as [string, string])
    for (const o of ops) {
      const i = out.length === 0 ? 0 : o.at % out.length
      if (o.kind === 'delete') out.splice(i, 1)
      else if (o.kind === 'value' && out[i]) out[i] = [out[i][0], o.value]
      else if (o.kind === 'key' && out[i]) out[i] = [o.value, out[i][1]]
      else if (o.kind === 'repeat' && out[i]) out.push([out[i][0], o.value])
      else if (o.kind === 'add') out.push([o.key, o.value])
    }
    return out
  })
}

/** Byte-level damage to a valid body: bytes flipped, cut short, inserted. */
export function damagedBytes(body: Buffer): fc.Arbitrary<Buffer> {
  return fc
    .array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), kind: fc.constantFrom('flip', 'cut', 'insert') }), { minLength: 1, maxLength: 6 })
    .map((edits) => {
      let bytes = Buffer.from(body)
      for (const e of edits) {
        const at = bytes.length === 0 ? 0 : e.at % bytes.length
        if (e.kind === 'flip') bytes[at] = e.byte
        else if (e.kind === 'cut') bytes = bytes.subarray(0, at)
        else bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([e.byte]), bytes.subarray(at)])
      }
      return bytes
    })
}
