import { LOG_PREFIX } from '../log/log.js'

/** Settings that cannot work; `load()` rejects with it and nothing is sent. */
export class SettingsError extends Error {
  override name = 'SettingsError'
  /** Every problem found, one sentence each. */
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super(`${LOG_PREFIX} invalid settings: ${problems.join('; ')}`)
    this.problems = problems
  }
}
