/**
 * Flags of `wagate serve` / `wagate dev`. Only `--role` exists; it overrides WAGATE_ROLE. Anything
 * else is an error rather than ignored, so a typo does not start a process in the wrong role.
 *
 * @example
 * parseFlags(['--role', 'worker']) // { role: 'worker' }
 * parseFlags(['--role=api'])       // { role: 'api' }
 */
export const ROLES = ['all', 'api', 'worker'] as const
export type Role = (typeof ROLES)[number]

export function parseFlags(args: string[]): { role?: Role } | { error: string } {
  let role: string | undefined
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg === '--role') {
      role = args[++i]
      if (role === undefined || role.startsWith('-')) return { error: `--role needs a value: ${ROLES.join(' | ')}` }
    } else if (arg.startsWith('--role=')) {
      role = arg.slice('--role='.length)
    } else {
      return { error: `unknown option "${arg}"` }
    }
  }
  if (role === undefined) return {}
  if (!(ROLES as readonly string[]).includes(role)) return { error: `--role: "${role}" is not one of ${ROLES.join(' | ')}` }
  return { role: role as Role }
}
