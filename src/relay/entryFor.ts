import type { RelayLogEntry } from './config/RelayOptions.js'
import { MISCONFIGURED, type RelayError } from './RelayError.js'

/** Log events of the relay's own refusals and limits, by error code; the rest are SMC's failures. */
const EVENTS: Record<string, string> = {
  ERR_BUDGET_EXHAUSTED: 'budget_exhausted',
  ERR_CLIENT_RATE_LIMITED: 'client_rate_limited',
  ERR_RELAY_BUSY: 'relay_busy',
  ERR_SMC_UNCONFIRMED: 'smc_unconfirmed',
}

/** The log entry of an answer the relay made itself: configuration faults are errors. */
export function entryFor(error: RelayError, detail: Record<string, unknown>): RelayLogEntry {
  const misconfiguration = MISCONFIGURED.has(error.code)
  return {
    level: misconfiguration ? 'error' : 'warn',
    event: misconfiguration ? 'misconfigured' : (EVENTS[error.code] ?? 'smc_failed'),
    message: error.message,
    code: error.code,
    status: error.status,
    ...detail,
  }
}
