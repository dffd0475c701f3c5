import { PROBLEMS, type ProblemCode } from '../http/problems.js'

/**
 * An error meant for the API caller: a stable code from the catalog and a sentence a person can
 * act on. Thrown anywhere in the engine; the HTTP layer renders it as problem+json.
 *
 * @example
 * throw new ApiError('unknown_account', 'no account "acme-br" in this tenant')
 */
export class ApiError extends Error {
  readonly status: number
  constructor(
    readonly code: ProblemCode,
    detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail)
    this.name = 'ApiError'
    this.status = PROBLEMS[code].status
  }
}
