/**
 * A hard cap on real send times, per account: no trailing 1,000 ms holds more than `max` sends.
 *
 * The limiter books evenly spaced slots ahead of time and the worker sleeps until its slot; when the
 * event loop stalls (a big commit, GC), every timer that came due fires together and the sends
 * bunch — a booked schedule of 196/s went out as 230 in one real second. This window is checked in
 * the same tick as the provider call, against the times sends really went out, so a late wake-up
 * waits instead of bursting. It holds per process; a shared limiter covers several processes.
 *
 * @example
 * const window = createDispatchWindow()
 * for (let wait = window.take('acc_1', 200, Date.now()); wait > 0; wait = window.take('acc_1', 200, Date.now())) await sleep(wait)
 * await adapter.send(…)
 */
export interface DispatchWindow {
  /** Records a send at `now` and returns 0, or returns how long to wait before asking again. */
  take(key: string, max: number, now: number): number
}

const WINDOW_MS = 1000

interface Ring {
  size: number
  times: number[]
  head: number
}

export function createDispatchWindow(): DispatchWindow {
  const rings = new Map<string, Ring>()
  return {
    take(key, max, now) {
      const size = Math.max(1, Math.floor(max))
      let ring = rings.get(key)
      // A changed rate starts a fresh window: at most one window of sends is judged by the old size.
      if (!ring || ring.size !== size) {
        ring = { size, times: [], head: 0 }
        rings.set(key, ring)
      }
      if (ring.times.length < size) {
        ring.times.push(now)
        return 0
      }
      // Full: `head` is the oldest send; it must have left the window before another may go.
      const oldest = ring.times[ring.head] as number
      if (oldest > now - WINDOW_MS) return oldest + WINDOW_MS - now
      ring.times[ring.head] = now
      ring.head = (ring.head + 1) % size
      return 0
    },
  }
}
