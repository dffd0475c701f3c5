/**
 * Small statistics for benchmark figures: nearest-rank percentiles over latency samples, the median
 * of repeated runs and its spread. Pure.
 *
 * @example
 * percentile([5, 1, 3], 50) // 3
 * medianOf([10, 30, 20, 50, 40]) // { median: 30, min: 10, max: 50, n: 5 }
 */
export interface Spread {
  median: number
  min: number
  max: number
  n: number
}

/** Nearest-rank percentile (p in 0..100); NaN for no samples. Sorts a copy. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = Float64Array.from(samples).sort()
  return sortedPercentile(sorted, p)
}

/** Percentile of an already ascending array. */
export function sortedPercentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number
}

/** Median (mean of the middle two for an even count), min and max of repeated measurements. */
export function medianOf(values: number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  const n = finite.length
  if (n === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 }
  const mid = Math.floor(n / 2)
  const median = n % 2 === 1 ? (finite[mid] as number) : ((finite[mid - 1] as number) + (finite[mid] as number)) / 2
  return { median, min: finite[0] as number, max: finite[n - 1] as number, n }
}

/** Latency recorder that grows without boxing numbers (hundreds of thousands of samples per phase). */
export class Samples {
  private data = new Float64Array(1024)
  private size = 0

  push(value: number): void {
    if (this.size === this.data.length) {
      const next = new Float64Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[this.size++] = value
  }

  get length(): number {
    return this.size
  }

  /** Ascending copy of the samples. */
  sorted(): Float64Array {
    return this.data.slice(0, this.size).sort()
  }
}

export interface LatencySummary {
  p50: number
  p90: number
  p99: number
  max: number
}

export function summarize(samples: Samples | ArrayLike<number>): LatencySummary {
  const sorted = samples instanceof Samples ? samples.sorted() : Float64Array.from(samples).sort()
  return {
    p50: sortedPercentile(sorted, 50),
    p90: sortedPercentile(sorted, 90),
    p99: sortedPercentile(sorted, 99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
  }
}

/**
 * The most events that fall in any window of `windowMs` (sliding, anchored on each event).
 *
 * @example
 * maxInWindow([0, 10, 20, 1005, 1010], 1000) // 3
 */
export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b)
  let best = 0
  let lo = 0
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= windowMs) lo++
    best = Math.max(best, hi - lo + 1)
  }
  return best
}

/**
 * Events per second over the span of the events: (n - 1) intervals over last - first. A rate
 * limiter that spaces sends evenly at `r`/s gives exactly `r`.
 *
 * @example
 * rateOf([0, 100, 200, 300]) // 10
 */
export function rateOf(times: number[]): number {
  if (times.length < 2) return Number.NaN
  let first = Infinity
  let last = -Infinity
  for (const t of times) {
    if (t < first) first = t
    if (t > last) last = t
  }
  return last > first ? ((times.length - 1) * 1000) / (last - first) : Number.NaN
}
