import type { Queue } from './createQueue.js'
import type { Persistence } from './createPersistence.js'
import type { Reporter } from './createReporter.js'
import { isOffline, type Sender } from './createSender.js'
import { bodyOf, halves, urlOf, type Lane, type QueuedRow } from './records.js'
import { KEEPALIVE_BUDGET } from './tunables.js'

/** The parts of a transport the page's lifecycle acts on. */
export interface PageLeaveParts {
  readonly queue_: Queue
  readonly sender_: Sender
  readonly persistence_: Persistence | undefined
  readonly reporter_: Reporter
  /** Whether requests can go as beacons: they carry a text/plain body and no headers. */
  readonly beaconable_: boolean
  /** Sends what may be sent now (the browser is back online). */
  readonly flush_: () => void
  /** Ends this tab's hold on its storage key: Web Locks keep a page out of the back/forward cache. */
  readonly endLease_: () => void
  /** Starts over as a new tab (restored from the back/forward cache). */
  readonly restart_: () => void
}

/** What the transport does when the page is hidden, left, restored, or back online. */
export interface PageLeave {
  /** The page is hidden (`final` false) or being left (`final` true). */
  leave_(final: boolean): void
  /** Starts (`true`) or stops listening to the page's lifecycle. */
  listen_(on: boolean): void
}

/**
 * Hands `rows` to `navigator.sendBeacon` (a string body goes as `text/plain`). The browser refuses
 * a beacon it has no quota for by returning `false`; the rows are then halved and offered again,
 * down to single rows. Returns the rows no beacon took.
 */
function beacon(url: string, rows: QueuedRow[]): QueuedRow[] {
  if (navigator.sendBeacon(url, bodyOf(rows))) return []
  if (rows.length < 2) return rows
  return halves(rows).flatMap((part) => beacon(url, part))
}

/** Creates what the transport does at page leave (docs/design.md#transport, "Page leave"). */
export function createPageLeave(baseUrl: string, parts: PageLeaveParts): PageLeave {
  const { queue_: queue, sender_: sender, persistence_: persistence, reporter_: reporter } = parts

  /** Offers the lane's waiting rows to beacons; those refused wait again. */
  const sendBeacons = (lane: Lane): void => {
    const url = urlOf(baseUrl, lane.target_)
    const refused: QueuedRow[] = []
    while (lane.waiting_.length) {
      const rows = queue.take_(lane, KEEPALIVE_BUDGET, 1)
      const notTaken = beacon(url, rows)
      queue.remove_(rows.filter((row) => !notTaken.includes(row)))
      reporter.stats.beaconed += rows.length - notTaken.length
      refused.push(...notTaken)
    }
    queue.putBack_(lane, refused)
  }

  /**
   * Keepalive requests in flight already and what still fits under the keepalive budget are left
   * to the browser, which delivers them after the page is gone; the rest is written to storage now
   * for another tab or the next page. A lane that is failing (or the browser offline) sends
   * nothing: those rows would most likely fail again where no page could retry them. When the page
   * is left, the rows held in memory only that are not handed over are dropped as `lost`.
   */
  function leave(final: boolean): void {
    sender.leave_(final)
    for (const lane of queue.lanes_.values()) {
      if (lane.failures_ || isOffline()) continue
      if ('keepalive' in Request.prototype) sender.handOff_(lane)
      else if (parts.beaconable_ && lane.target_.method === 'POST') sendBeacons(lane)
    }
    // What is held in memory only and was not handed over goes with the page: reported, never
    // lost silently.
    if (final) {
      for (const lane of queue.lanes_.values()) {
        const lost = queue.removeMemoryOnly_(lane)
        reporter.dropped_(lane, lost, 'lost', 'Lost with the page', 0)
      }
    }
    persistence?.write_()
    if (final) parts.endLease_()
  }

  // Never `unload`/`beforeunload`: they are unreliable on mobile and keep pages out of the
  // back/forward cache. Captured at the window, which also sees the document's
  // `visibilitychange` (the last event a mobile browser fires before killing a tab).
  const listeners: Record<string, (event: Event) => void> = {
    online: parts.flush_,
    pagehide: () => leave(true),
    visibilitychange: () => {
      if (document.visibilityState === 'hidden') leave(false)
    },
    // Restored from the back/forward cache: another tab may have adopted what this page left in
    // storage meanwhile, so it starts over as a new tab, adopting its own rows if still there.
    pageshow: (event) => {
      if ((event as PageTransitionEvent).persisted) parts.restart_()
    },
  }

  return {
    leave_: leave,
    listen_(on) {
      for (const [type, listener] of Object.entries(listeners)) {
        if (on) addEventListener(type, listener, true)
        else removeEventListener(type, listener, true)
      }
    },
  }
}
