import type { Analytics, Context } from '@segment/analytics-next'
import { LOG_PREFIX } from '../log/log.js'
import type { DeliveryReport } from '../transport/types.js'

/** Reports the rows the transport gave up on, each on the call that queued it. */
export interface FailureReporter {
  /** Remembers `ctx` as the call that queued the row `id`. */
  remember_(id: string, ctx: Context): void
  /**
   * Hears a delivery outcome: a failure is set on each call's context, logged on it, and emitted
   * as analytics-next's `delivery_failure` error; rows an earlier page queued, whose call is gone,
   * are emitted once, without a context.
   */
  report_(report: DeliveryReport): void
}

/**
 * Creates the failure reporter of a plugin loaded on `analytics`; it remembers the calls of
 * `maxRows` rows at most.
 */
export function createFailureReporter(analytics: Analytics, maxRows: number): FailureReporter {
  // Contexts of this page's queued rows, by row id.
  const contexts = new Map<string, Context>()
  return {
    remember_(id, ctx) {
      contexts.set(id, ctx)
      // A row another tab delivers is never reported here: forget the oldest past what the queue holds.
      if (contexts.size > maxRows) contexts.delete(contexts.keys().next().value as string)
    },
    report_({ type, ids, reason }) {
      let orphans = false
      for (const id of ids) {
        const ctx = contexts.get(id)
        contexts.delete(id)
        if (type === 'sent') continue
        if (!ctx) {
          orphans = true
          continue
        }
        ctx.setFailedDelivery({ reason })
        ctx.log('error', `${LOG_PREFIX} delivery failed`, { reason, target: reason?.target })
        analytics.emit('error', { code: 'delivery_failure', reason, ctx })
      }
      // Rows restored from an earlier page have no context left to report on.
      if (orphans) analytics.emit('error', { code: 'delivery_failure', reason })
    },
  }
}
