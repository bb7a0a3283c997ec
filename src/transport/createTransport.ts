import { createPersistence, type Persistence } from './createPersistence.js'
import { createQueue } from './createQueue.js'
import { createReporter } from './createReporter.js'
import { createSender } from './createSender.js'
import { createTabLease, type TabLease } from './createTabLease.js'
import { createPageLeave } from './pageLeave.js'
import { toAsciiJson, type Lane, type QueuedRow } from './records.js'
import { createStorage } from './storage.js'
import { PERSIST_DELAY, WRITE_AFTER } from './tunables.js'
import type { Transport, TransportOptions } from './types.js'

/** Why rows are discarded when consent is withdrawn. */
const CONSENT_WITHDRAWN = 'Consent withdrawn'

/**
 * Creates the transport: rows queued per target, coalesced into requests of up to `batchSize`
 * rows, persisted per tab, retried, delivered at page leave with keepalive fetch (or beacons),
 * held while offline, and adopted from tabs that died with rows queued (docs/design.md#transport).
 *
 * Every tab persists its queue under a key of its own and sends only what it holds in memory;
 * what a dead tab left is adopted by exactly one other tab, which Web Locks decide. Without Web
 * Locks a tab cannot tell a dead tab's key from a live one's: it keeps its queue in memory only
 * and touches no other's (docs/design.md#web-locks-for-tab-liveness).
 */
export function createTransport(options: TransportOptions): Transport {
  const { batchSize, flushInterval } = options
  const locks = navigator.locks as LockManager | undefined
  const storageKey = locks ? options.storageKey : undefined
  const queue = createQueue(options, storageKey !== undefined)
  const reporter = createReporter(queue, options.onReport)
  const storage = createStorage()
  let lease: TabLease | undefined
  let persistence: Persistence | undefined
  let closed = false
  // Set by a discard, cleared by the next push: what a gone tab left is discarded meanwhile, as it
  // may have been queued before the discard reached that tab.
  let withheld = false
  if (locks && storageKey !== undefined) {
    lease = createTabLease(locks, storageKey, storage, adopt)
    persistence = createPersistence(queue, storageKey, lease, storage, (lane) => heldRows(lane))
  }
  const sender = createSender(options, queue, persistence, reporter)
  const heldRows = (lane: Lane): QueuedRow[] => [...sender.unsettled_(lane), ...lane.waiting_]
  const flush = async (): Promise<void> => {
    await Promise.all([...queue.lanes_.values()].map(sender.pump_))
  }
  const trim = (): void => queue.trim_(reporter.overflowed_)

  /** Queues the rows a gone tab (or the previous page) left under `tabKey` as this tab's own. */
  function adopt(tabKey: string): void {
    for (const chunk of persistence?.takeChunks_(tabKey) ?? []) {
      const lane = queue.laneOf_(chunk.target_)
      if (withheld) {
        reporter.dropped_(lane, chunk.rows_, 'consent', CONSENT_WITHDRAWN, 0)
        continue
      }
      sender.arm_(lane, flushInterval)
      for (const row of chunk.rows_) queue.add_(lane, row.id_, row.json_, row.tries_)
    }
    trim()
    persistence?.write_()
  }

  /** Starts as a tab that has written nothing, whose key and lock wait for its first write. */
  const start = (): void => {
    lease?.start_()
    persistence?.reset_()
  }

  /**
   * Storage owns the queue now (written, and the lease ended): the memory copy is forgotten,
   * answers to its requests included, lest another tab and this one both send it.
   */
  const forget = (): Map<Lane, QueuedRow[]> => {
    sender.forget_()
    return queue.removeWaiting_()
  }

  // Tabs of one site hear of each other's discards here (docs/design.md#consent). Without
  // BroadcastChannel (Safari before 15.4) they learn of it from their own next call.
  const channel =
    options.discardChannel && 'BroadcastChannel' in self
      ? new BroadcastChannel(options.discardChannel)
      : undefined
  if (channel) channel.onmessage = () => discard(false)

  /**
   * Drops every row held and writes the emptied queue; `everyTab`: removes what every tab stored,
   * this one's included, and tells the live ones to do the same. Requests out already are
   * forgotten, not recalled.
   */
  function discard(everyTab: boolean): void {
    withheld = true
    for (const [lane, rows] of forget()) {
      reporter.dropped_(lane, rows, 'consent', CONSENT_WITHDRAWN, 0)
    }
    if (everyTab) {
      persistence?.removeEveryTab_()
      channel?.postMessage(0)
    } else persistence?.write_()
  }

  const pageLeave = createPageLeave(options.baseUrl, {
    queue_: queue,
    sender_: sender,
    persistence_: persistence,
    reporter_: reporter,
    // A beacon carries a text/plain body and no headers: only requests with no other headers
    // (proxy mode) can go as one.
    beaconable_: JSON.stringify(options.headers) === '{"Content-Type":"text/plain"}',
    flush_: () => void flush(),
    endLease_: () => lease?.end_(),
    restart_() {
      sender.resume_()
      // Without a lease there is nothing to adopt: memory still holds every row.
      if (lease) forget()
      start()
    },
  })
  pageLeave.listen_(true)
  start()

  return {
    stats: reporter.stats,
    flush,
    push(target, row, id) {
      if (closed) return
      withheld = false
      const lane = queue.laneOf_(target)
      queue.add_(lane, id, toAsciiJson(row), 0)
      trim()
      // Pushed during or after pagehide: no timer will run again, send, store or report it now.
      if (sender.hasLeft_()) pageLeave.leave_(true)
      else if (lane.waiting_.length < batchSize) sender.arm_(lane, flushInterval)
      else void sender.pump_(lane)
      persistence?.writeWithin_(queue.held_.rows_ > batchSize ? PERSIST_DELAY : WRITE_AFTER)
    },
    discard: () => discard(true),
    close() {
      channel?.close()
      persistence?.write_()
      persistence?.stop_()
      closed = true
      sender.stop_()
      pageLeave.listen_(false)
      lease?.end_()
      forget()
    },
  }
}
