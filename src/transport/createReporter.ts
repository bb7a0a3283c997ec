import { DeliveryError } from './DeliveryError.js'
import type { Queue } from './createQueue.js'
import type { Lane, QueuedRow } from './records.js'
import type { DeliveryReport, TransportStats } from './types.js'

/** Why rows were given up on: the keys of {@link TransportStats.dropped}. */
export type DropReason = 'rejected' | 'invalid' | 'attempts' | 'overflow' | 'lost' | 'consent'

/** The transport's counters, and what it tells its owner about rows. */
export interface Reporter {
  /** Live counters; the transport's parts add to them. */
  readonly stats: TransportStats
  /** Reports rows the server accepted. */
  sent_(rows: readonly QueuedRow[]): void
  /** Reports rows given up on, counted under `why`; `text` and `status` explain it. */
  dropped_(
    lane: Lane,
    rows: readonly Pick<QueuedRow, 'id_'>[],
    why: DropReason,
    text: string,
    status: number,
  ): void
  /**
   * Reports a row pushed out past the memory bounds. Such rows come in bursts: they are reported
   * together, one error per lane and task.
   */
  overflowed_(lane: Lane, row: QueuedRow): void
}

/** The counters of a transport that has sent nothing yet, besides what it holds. */
export const nothingSent = (): Omit<TransportStats, 'queued' | 'memoryOnly'> => ({
  sent: 0,
  requests: 0,
  splitRequests: 0,
  retried: 0,
  beaconed: 0,
  dropped: {},
  skipped: {},
})

/** Creates the reporter of a transport whose owner hears of rows through `onReport`. */
export function createReporter(queue: Queue, onReport: (report: DeliveryReport) => void): Reporter {
  const stats: TransportStats = {
    get queued() {
      return queue.held_.rows_
    },
    get memoryOnly() {
      return queue.held_.rows_ - queue.stored_.rows_
    },
    ...nothingSent(),
  }
  const overflowed = new Map<Lane, QueuedRow[]>()

  const dropped: Reporter['dropped_'] = (lane, rows, why, text, status) => {
    if (!rows.length) return
    stats.dropped[why] = (stats.dropped[why] ?? 0) + rows.length
    const reason = new DeliveryError(text, status, lane.target_)
    onReport({ type: 'dropped', ids: rows.map((row) => row.id_), reason })
  }

  const reportOverflow = (): void => {
    for (const [lane, rows] of overflowed) dropped(lane, rows, 'overflow', 'Queue full', 0)
    overflowed.clear()
  }

  return {
    stats,
    sent_(rows) {
      stats.sent += rows.length
      onReport({ type: 'sent', ids: rows.map((row) => row.id_) })
    },
    dropped_: dropped,
    overflowed_(lane, row) {
      if (!overflowed.size) queueMicrotask(reportOverflow)
      const rows = overflowed.get(lane)
      if (rows) rows.push(row)
      else overflowed.set(lane, [row])
    },
  }
}
