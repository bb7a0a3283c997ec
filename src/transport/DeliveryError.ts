import type { Target } from './types.js'

/** Rows the server refused for good, that ran out of attempts, or that the full queue pushed out. */
export class DeliveryError extends Error {
  override name = 'DeliveryError'
  /** HTTP status of the last answer; 0 for a network failure or a row that was never sent. */
  readonly status: number
  /** The target of the rows. */
  readonly target: Target

  constructor(message: string, status: number, target: Target) {
    super(`${message}${status ? ` (HTTP ${status})` : ''} for ${target.method} ${target.path}`)
    this.status = status
    this.target = target
  }
}
