import type { RelayLogEntry } from '../config/RelayOptions.js'
import type { ResolvedRelayOptions } from '../config/ResolvedRelayOptions.js'
import { entryFor } from '../entryFor.js'
import type { RelayTarget } from '../gate/parseTarget.js'
import { budgetExhausted } from '../limits/budgetExhausted.js'
import { MILLI_CALLS } from '../limits/createClientLimiter.js'
import type { SharedLimits } from '../limits/createSharedLimits.js'
import { createSlots } from '../limits/createSlots.js'
import { RelayError, unavailable } from '../RelayError.js'
import { callSmc, SmcRateLimitedError, type SmcAnswer } from './callSmc.js'
import type { CallerSlice } from './createCoalescer.js'

/** What isolating the refused callers of one merged call spent, and whom SMC refused alone. */
export interface Isolation {
  /** SMC calls made to isolate them. */
  resends: number
  /** The clients of the callers SMC refused alone. */
  readonly refused: string[]
}

/** An SMC call made, for the verdict on its answer and the log line of it. */
export interface MadeCall {
  /** SMC's answer. */
  readonly smc: SmcAnswer
  /** When the call was asked for (`Date.now()`). */
  readonly started: number
  /** The log details of the call: its target, rows and callers. */
  readonly detail: { readonly target: string; readonly rows: number; readonly callers: number }
}

/**
 * One SMC call, once a slot is free and the budget allows (`paid`: the coalescer took it from the
 * budget already); what only the relay acts on is thrown as a {@link RelayError}. The callers'
 * clients pay for it in equal parts, or, for a re-send, `isolation` counts it for the refused
 * callers to pay.
 */
export type SmcCall = (
  target: RelayTarget,
  rows: readonly (readonly string[])[],
  slices: readonly CallerSlice[],
  paid: boolean,
  isolation: Isolation | undefined,
) => Promise<MadeCall>

/** Makes SMC calls within the budget and `maxSmcCalls`, counting and logging their failures. */
export function createSmcCall(
  config: ResolvedRelayOptions,
  limits: SharedLimits,
  log: (entry: RelayLogEntry) => void,
): SmcCall {
  const { metrics } = config
  const slots = createSlots(config.maxSmcCalls)
  return async (target, rows, slices, paid, isolation) => {
    const started = Date.now()
    const detail = { target: target.key, rows: rows.length, callers: slices.length }
    let called = false
    try {
      if (!paid) {
        const { waitMs, taken } = await limits.take(0)
        if (!taken) throw budgetExhausted(config.budgetPerMinute, waitMs)
      }
      if (!(await slots.acquire(config.timeoutMs))) {
        throw unavailable(
          'ERR_RELAY_BUSY',
          `${config.maxSmcCalls} SMC calls were in flight for ${config.timeoutMs} ms; retry later`,
        )
      }
      try {
        called = true
        if (isolation) isolation.resends++
        else {
          const share = Math.ceil(MILLI_CALLS / slices.length)
          for (const slice of slices) void limits.charge(slice.client, share)
        }
        const smc = await callSmc(config, target, JSON.stringify(rows))
        metrics?.smcCall(String(smc.status), rows.length, Date.now() - started)
        return { smc, started, detail }
      } finally {
        slots.release()
      }
    } catch (error) {
      if (error instanceof RelayError) {
        const rateLimited = error instanceof SmcRateLimitedError
        if (called)
          metrics?.smcCall(rateLimited ? '429' : error.code, rows.length, Date.now() - started)
        if (rateLimited) await limits.pause(error.retryAfterS * 1000)
        log(entryFor(error, { ms: Date.now() - started, ...detail }))
      }
      throw error
    }
  }
}
