import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and says where the process spent its CPU: self time
 * grouped by package or by source folder — native frames (SQLite, HMAC, JSON) are charged to the
 * nearest JavaScript caller, so SQLite work shows under better-sqlite3 — and the top functions.
 *
 * @example
 * summarizeProfile('bench/profiles/ingest-…') // { categories: [{ name: 'better-sqlite3 (native)', ms: 4210, pct: 31.5 }, …], … }
 */
interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface Share {
  name: string
  ms: number
  /** Percent of busy (non-idle) time. */
  pct: number
}

export interface ProfileSummary {
  file: string
  wallSeconds: number
  busySeconds: number
  categories: Share[]
  functions: Share[]
}

function categoryOfUrl(url: string): string | undefined {
  if (url === '') return undefined
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? 'node_modules')
  }
  if (url.startsWith('node:')) return 'node core'
  const src = url.indexOf('/src/')
  if (src >= 0) {
    const parts = url.slice(src + 1).split('/')
    return `wagate ${parts.slice(0, Math.max(2, parts.length - 1)).join('/')}`
  }
  return url.split('/').slice(-2).join('/')
}

export function summarizeProfileFile(file: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))

  const category = (node: ProfileNode): string => {
    const fn = node.callFrame.functionName
    if (fn === '(garbage collector)') return 'GC'
    if (fn === '(program)') return 'V8 / runtime (program)'
    if (fn === '(idle)') return 'idle'
    const own = categoryOfUrl(node.callFrame.url)
    if (own) return own
    let up = parent.get(node.id)
    while (up !== undefined) {
      const p = byId.get(up)
      const c = p ? categoryOfUrl(p.callFrame.url) : undefined
      if (c) return `${c} (native)`
      up = parent.get(up)
    }
    return 'native'
  }

  const cats = new Map<string, number>()
  const fns = new Map<string, number>()
  let busy = 0
  for (const [id, us] of self) {
    const node = byId.get(id)
    if (!node) continue
    const cat = category(node)
    if (cat === 'idle') continue
    busy += us
    cats.set(cat, (cats.get(cat) ?? 0) + us)
    const where = node.callFrame.url ? `${node.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${node.callFrame.lineNumber + 1}` : cat
    const key = `${node.callFrame.functionName || '(anonymous)'} — ${where}`
    fns.set(key, (fns.get(key) ?? 0) + us)
  }
  const shares = (m: Map<string, number>, n: number): Share[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, pct: busy > 0 ? (100 * us) / busy : 0 }))
  return {
    file,
    wallSeconds: (profile.endTime - profile.startTime) / 1e6,
    busySeconds: busy / 1e6,
    categories: shares(cats, 14),
    functions: shares(fns, 15),
  }
}

/**
 * The busiest profile in `dir` — the main thread's, when a process also wrote one per worker
 * thread (tsx's module loader) — summarized; undefined when there is none.
 */
export function summarizeProfile(dir: string): ProfileSummary | undefined {
  let files: string[]
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  } catch {
    return undefined
  }
  return files
    .map((f) => summarizeProfileFile(join(dir, f)))
    .sort((a, b) => b.busySeconds - a.busySeconds)[0]
}
