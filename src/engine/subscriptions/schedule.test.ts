import { describe, expect, it } from 'vitest'
import { DEFAULT_SCHEDULE_MS, parseSchedule, retryDelay, scheduleFromEnv } from './schedule.js'

describe('delivery retry schedule', () => {
  it('defaults to DESIGN §10: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    const s = 1000
    const m = 60 * s
    const h = 60 * m
    expect(DEFAULT_SCHEDULE_MS).toEqual([0, 5 * s, 5 * m, 30 * m, 2 * h, 5 * h, 10 * h, 10 * h])
    expect(scheduleFromEnv({})).toEqual(DEFAULT_SCHEDULE_MS)
  })

  it('reads WAGATE_DELIVERY_SCHEDULE_MS as a comma list', () => {
    expect(scheduleFromEnv({ WAGATE_DELIVERY_SCHEDULE_MS: ' 0, 20 ,40' })).toEqual([0, 20, 40])
  })

  it.each(['', 'a,b', '1,,2', '-5', '1.5', '10e3', String(8 * 24 * 3600 * 1000)])('refuses %j with a message naming the variable', (text) => {
    expect(() => parseSchedule(text)).toThrow(/WAGATE_DELIVERY_SCHEDULE_MS/)
  })

  it('gives the wait before each retry, then nothing once spent', () => {
    const schedule = [0, 50, 100]
    expect([0, 1, 2, 3].map((i) => retryDelay(schedule, i))).toEqual([0, 50, 100, undefined])
  })
})
