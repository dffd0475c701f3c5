#!/usr/bin/env node
// Launcher for `npx wagate …`. After `npm run build` it runs the compiled gateway (dist/) in this
// process: plain JavaScript, no TypeScript loader (less memory, faster start). Without a build it
// runs src/ through tsx. Note: dist/ is what `npm run build` last produced; rebuild after editing src/.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const built = join(root, 'dist/cli.js')
if (existsSync(built) && process.env.WAGATE_FROM_SOURCE !== '1') {
  process.setSourceMapsEnabled(true)
  await import(pathToFileURL(built).href)
} else {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(result.status ?? 1)
}
