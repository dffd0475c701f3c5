/**
 * Wake-ups between gateway instances. A signal carries no data, only "look again": the store stays
 * the one source of truth, so a lost, late or repeated signal costs latency, never correctness (the
 * loops also poll, and each SSE stream reads the event log from its own cursor).
 *
 * - `outbox`: a message was queued (an API instance wakes the workers at once instead of waiting
 *   for their next poll).
 * - `events`: events were appended (SSE streams and the subscription dispatcher on every instance
 *   read the log again).
 *
 * `notify` reaches every instance, this one included: local listeners run at once (synchronously,
 * origin `local`), other instances' listeners soon after (origin `remote`). Without Redis the
 * in-process notifier below serves the one process.
 *
 * @example
 * const notifier = createLocalNotifier()
 * notifier.on('outbox', () => worker.poke())
 * notifier.notify('outbox')
 */
export type Signal = 'outbox' | 'events'
export type Origin = 'local' | 'remote'

export interface Notifier {
  notify(signal: Signal): void
  /** Returns the function that removes the listener. */
  on(signal: Signal, listener: (origin: Origin) => void): () => void
  close(): Promise<void>
}

export const SIGNALS: readonly Signal[] = ['outbox', 'events']

/** The listener registry both notifiers share; a throwing listener does not stop the others. */
export function createListeners(onError: (err: unknown) => void = () => {}) {
  const listeners = new Map<Signal, Set<(origin: Origin) => void>>()
  return {
    add(signal: Signal, listener: (origin: Origin) => void) {
      const set = listeners.get(signal) ?? new Set()
      listeners.set(signal, set)
      set.add(listener)
      return () => void set.delete(listener)
    },
    emit(signal: Signal, origin: Origin) {
      for (const listener of [...(listeners.get(signal) ?? [])]) {
        try {
          listener(origin)
        } catch (err) {
          onError(err)
        }
      }
    },
    clear() {
      listeners.clear()
    },
  }
}

export function createLocalNotifier(): Notifier {
  const listeners = createListeners()
  return {
    notify: (signal) => listeners.emit(signal, 'local'),
    on: (signal, listener) => listeners.add(signal, listener),
    async close() {
      listeners.clear()
    },
  }
}
