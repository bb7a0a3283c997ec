/**
 * Receives what the relay does, to count it: `startRelayServer` and the CLI feed Prometheus
 * metrics (`GET /metrics`) from it; on other runtimes, any counters will do.
 */
export interface RelayMetrics {
  /** A request's rows passed the gate and joined a call. */
  accepted(rows: number): void
  /**
   * A request was answered with the relay's own error (`reason`: its code, e.g.
   * `ERR_BUDGET_EXHAUSTED`), with the rows it held (0 when refused before they were read).
   */
  refused(reason: string, rows: number): void
  /**
   * An SMC call ended: `outcome` is SMC's HTTP status, or the relay's error code when SMC gave no
   * usable answer (`ERR_SMC_TIMEOUT`); `rows` it carried, `ms` it took.
   */
  smcCall(outcome: string, rows: number, ms: number): void
  /** SMC calls the budget allows at once now, as last seen. */
  budget(calls: number): void
  /** Whether the shared store answers (`true` without one). */
  store(up: boolean): void
}
