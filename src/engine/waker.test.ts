import { describe, expect, it } from 'vitest'
import { createWaker } from './waker.js'

describe('createWaker', () => {
  it('ends a sleep when its time is up', async () => {
    const waker = createWaker()
    const started = performance.now()
    await waker.sleep(30)
    expect(performance.now() - started).toBeGreaterThanOrEqual(25)
  })

  it('ends a sleep at once on wake()', async () => {
    const waker = createWaker()
    const started = performance.now()
    const sleeping = waker.sleep(10_000)
    setTimeout(() => waker.wake(), 5)
    await sleeping
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  it('drops a wake-up made while nobody sleeps', async () => {
    const waker = createWaker()
    waker.wake()
    const started = performance.now()
    await waker.sleep(40)
    expect(performance.now() - started).toBeGreaterThanOrEqual(35)
  })
})
