import { describe, expect, it } from 'vitest'
import { parseFlags } from './cli-args.js'

describe('parseFlags', () => {
  it('reads --role in both spellings, and nothing when absent', () => {
    expect(parseFlags(['--role', 'worker'])).toEqual({ role: 'worker' })
    expect(parseFlags(['--role=api'])).toEqual({ role: 'api' })
    expect(parseFlags([])).toEqual({})
  })

  it('refuses a missing or unknown role and unknown options', () => {
    expect(parseFlags(['--role'])).toEqual({ error: expect.stringContaining('needs a value') })
    expect(parseFlags(['--role', '--verbose'])).toEqual({ error: expect.stringContaining('needs a value') })
    expect(parseFlags(['--role', 'workers'])).toEqual({ error: expect.stringContaining('"workers" is not one of all | api | worker') })
    expect(parseFlags(['--rol', 'api'])).toEqual({ error: 'unknown option "--rol"' })
  })
})
