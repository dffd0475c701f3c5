import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ProviderId } from '../../src/providers/types.js'

/**
 * Captured provider payloads, vendored from the project's shared fixtures into test/fixtures so a
 * clone tests on its own. `fixtureSync.test.ts` checks the copy against ../shared when present.
 */
export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')

export function fixturePath(provider: ProviderId, file: string): string {
  return join(FIXTURES_DIR, provider, file)
}

export function readFixture(provider: ProviderId, file: string): Buffer {
  return readFileSync(fixturePath(provider, file))
}

export function readFixtureJson<T = unknown>(provider: ProviderId, file: string): T {
  return JSON.parse(readFixture(provider, file).toString('utf8')) as T
}

/** Every payload file of a provider's folder (index.md excluded). */
export function fixtureFiles(provider: ProviderId): string[] {
  return readdirSync(join(FIXTURES_DIR, provider))
    .filter((f) => f !== 'index.md')
    .sort()
}
