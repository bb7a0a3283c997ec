import type { Target } from '../smc/Target.js'

/** Rows the server refused for good, that ran out of attempts, or that the full queue pushed out. */
export class DeliveryError extends Error {
  override name = 'DeliveryError'

  /**
   * @param status HTTP status of the last answer; 0 for a network failure or a row never sent.
   * @param target The target of the rows.
   */
  constructor(
    message: string,
    readonly status: number,
    readonly target: Target,
  ) {
    super(`${message}${status ? ` (HTTP ${status})` : ''} for ${target.method} ${target.path}`)
  }
}
