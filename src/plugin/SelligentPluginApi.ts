import type { Plugin } from '@segment/analytics-next'
import type { TransportStats } from '../transport/types.js'
import type { DestinationMiddleware } from './applyMiddleware.js'

/** The analytics-next destination plugin `selligentPlugin` returns. */
export interface SelligentPlugin extends Plugin {
  /**
   * Delivery counters: rows queued and held in memory only, sent, requests, retried, dropped and
   * skipped by reason (see {@link TransportStats}).
   */
  readonly stats: Readonly<TransportStats>
  /** Sends everything queued now; resolves when those requests have settled. */
  flush(): Promise<void>
  /**
   * Adds destination middlewares, run after the consent check and before filtering and mapping
   * (docs/design.md#destination-middleware). analytics-next calls it from
   * `analytics.addDestinationMiddleware('Selligent Marketing Cloud', …)` (or `'*'`).
   */
  addMiddleware(...middlewares: DestinationMiddleware[]): void
}
