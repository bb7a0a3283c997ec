import type { Target } from './types.js'

/** A request whose rows the server refused for good, or that ran out of attempts. */
export class DeliveryError extends Error {
  override name = 'DeliveryError'
  /** HTTP status, or 0 for a network failure. */
  readonly status: number
  /** The target of the failed request. */
  readonly target: Target

  constructor(message: string, status: number, target: Target) {
    super(`${message} (${status || 'network error'}) for ${target.method} ${target.path}`)
    this.status = status
    this.target = target
  }
}
