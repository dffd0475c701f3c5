import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/** The bench harness's own tests: `npx vitest run --config bench/vitest.config.ts`. */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['bench/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 90_000,
    pool: 'forks',
  },
})
