/** Thrown by {@link createRelay} and the CLI when options are missing or invalid. */
export class RelayConfigError extends Error {
  override readonly name = 'RelayConfigError'

  /** Every problem found, each naming the option and, unless it is a credential, its value. */
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super(`Invalid relay configuration:\n- ${problems.join('\n- ')}`)
    this.problems = problems
  }
}
