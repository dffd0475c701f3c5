/**
 * The idle wait of a background loop: `sleep(ms)` ends after `ms`, or at once when `wake()` is
 * called meanwhile. A wake-up while nobody sleeps is dropped — loops keep their own "dirty" flag
 * for work that arrives while they run.
 *
 * @example
 * const waker = createWaker()
 * while (running) { if (await doWork()) continue; await waker.sleep(pollMs) }
 * // elsewhere: new work arrived
 * waker.wake()
 */
export interface Waker {
  sleep(ms: number): Promise<void>
  wake(): void
}

export function createWaker(): Waker {
  let pending: (() => void) | undefined
  return {
    sleep(ms) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms)
        function done() {
          clearTimeout(timer)
          pending = undefined
          resolve()
        }
        pending = done
      })
    },
    wake() {
      pending?.()
    },
  }
}
