import { log } from '../log/log.js'
import { retryDelay } from './backoff.js'
import type { Queue } from './createQueue.js'
import type { Persistence } from './createPersistence.js'
import type { DropReason, Reporter } from './createReporter.js'
import { bodyOf, halves, urlOf, type Lane, type QueuedRow } from './records.js'
import { BURST_REQUESTS, KEEPALIVE_BUDGET, PERSIST_DELAY } from './tunables.js'
import type { TransportOptions } from './types.js'

/** A request awaiting its answer. */
interface Request {
  /** Its lane. */
  readonly lane_: Lane
  /** Its rows. */
  readonly rows_: QueuedRow[]
  /** Body bytes counted against the keepalive budget; 0 for a plain request. */
  readonly keepaliveBytes_: number
  /**
   * Handed to the browser at page leave: no longer persisted, so the next page does not send it
   * again. Only keepalive requests survive the page, and only those of a lane that is not failing
   * are trusted to.
   */
  handedOver_: boolean
}

/** Sends the lanes' rows and acts on the verdict on each answer. */
export interface Sender {
  /** Sends the lane's next batch if nothing holds it back. */
  pump_(lane: Lane): Promise<void> | undefined
  /** Pumps the lane after `ms`, unless a pump is due already. */
  arm_(lane: Lane, ms: number): void
  /**
   * Sends the lane's waiting rows that fit what is left of the keepalive budget, as requests
   * handed over to the browser: the page is being left.
   */
  handOff_(lane: Lane): void
  /**
   * The page is hidden (`final` false) or left (`final` true): keepalive requests of lanes that
   * are not failing are handed over to the browser; when the page is left, the others are
   * cancelled by the browser, and their rows wait again.
   */
  leave_(final: boolean): void
  /** Whether the page was left (and not restored since). */
  hasLeft_(): boolean
  /** The page is back from the back/forward cache. */
  resume_(): void
  /** Rows of the lane's requests not handed over, for storage to hold. */
  unsettled_(lane: Lane): QueuedRow[]
  /** Lets go of every request not handed over: their answers are ignored. */
  forget_(): void
  /** Sends nothing from now on. */
  stop_(): void
}

/** Whether the browser says it is offline. */
export const isOffline = (): boolean => navigator.onLine === false

/** Creates the sender of `queue`'s lanes. */
export function createSender(
  options: TransportOptions,
  queue: Queue,
  persistence: Persistence | undefined,
  reporter: Reporter,
): Sender {
  const { baseUrl, headers, maxAttempts, judge, debug } = options
  const { stats } = reporter
  const inflight = new Set<Request>()
  let keepaliveBytes = 0
  let left = false
  let stopped = false

  async function send(lane: Lane, rows: QueuedRow[], leaving: boolean): Promise<void> {
    const { method } = lane.target_
    const url = urlOf(baseUrl, lane.target_)
    const body = bodyOf(rows)
    // ASCII: its length is its size in bytes.
    const fits = body.length <= KEEPALIVE_BUDGET - keepaliveBytes
    const request: Request = {
      lane_: lane,
      rows_: rows,
      keepaliveBytes_: fits ? body.length : 0,
      handedOver_: leaving,
    }
    inflight.add(request)
    lane.awaiting_++
    keepaliveBytes += request.keepaliveBytes_
    stats.requests++
    let status = 0
    let answerHeaders: Headers | undefined
    let answer: string
    try {
      const response = await fetch(url, {
        method,
        headers,
        // A Blob is handed to the network as it is; a string body is copied and encoded again.
        body: new Blob([body]),
        keepalive: fits,
        credentials: 'omit',
      })
      answer = await response.text()
      // Only now: a body that fails to arrive is a network error whatever the status said.
      status = response.status
      answerHeaders = response.headers
    } catch (error) {
      // The browser fails the page's fetches as it tears the page down, which Chrome does during
      // `pagehide` before it reaches this transport when listeners added earlier (analytics-next's,
      // the plugin's) run first. The request stays in flight as it was, for page leave to hand over
      // (the browser still delivers a keepalive request) or to put back, as if it had come first;
      // its body still takes keepalive quota. Its fetch is over all the same: the lane may send
      // again, should the page come back from the back/forward cache.
      if (event?.type === 'pagehide') {
        lane.awaiting_--
        return
      }
      answer = String(error)
    }
    lane.awaiting_--
    keepaliveBytes -= request.keepaliveBytes_
    if (debug) log('info', method, url, rows.length, status, answer)
    // Forgotten meanwhile (see `forget`): storage owns these rows now.
    if (!inflight.delete(request)) return
    // Handed over and the page left: the browser fails the page's fetch while it still delivers
    // the request itself, so a network error says nothing, and the rows must not come back to be
    // sent again by the next page.
    if (left && request.handedOver_ && !status) {
      queue.remove_(rows)
      return
    }
    settle(lane, rows, status, answer, answerHeaders)
    // An answer changes storage only once nothing is held: until then the next write or page leave
    // writes the queue anyway, and a write per answer would rewrite a long queue over and over in
    // a burst. A crash meanwhile costs rows sent again (upserts by EVENT_ID), never rows lost.
    if (!queue.held_.rows_) persistence?.writeEmptied_()
    void pump(lane)
  }

  /** Acts on the verdict on an answer (docs/design.md#verdicts): the sender only moves rows. */
  function settle(
    lane: Lane,
    rows: QueuedRow[],
    status: number,
    answer: string,
    answerHeaders: Headers | undefined,
  ): void {
    const verdict = judge(status, answer, rows.length, answerHeaders)
    const { refused = {}, reason = '' } = verdict
    /** Lets go of `dropped`, reported as given up on under `why`. */
    const drop = (dropped: QueuedRow[], why: DropReason, text = reason): void => {
      queue.remove_(dropped)
      reporter.dropped_(lane, dropped, why, text, status)
    }
    // Rows refused for good are not sent again, whatever becomes of the others.
    const invalid = rows.filter((_, i) => i in refused)
    const others = rows.filter((_, i) => !(i in refused))
    if (verdict.retry) {
      drop(invalid, 'invalid')
      // A request that failed because the browser is offline costs no attempt: `online` resumes.
      const offline = !status && isOffline()
      if (!offline) {
        lane.failures_++
        lane.notBefore_ = Date.now() + retryDelay(lane.failures_, verdict.retryAfterMs)
        for (const row of others) row.tries_++
      }
      const kept = others.filter((row) => offline || row.tries_ < maxAttempts)
      stats.retried += kept.length
      queue.putBack_(lane, kept)
      const spent = others.filter((row) => !kept.includes(row))
      drop(spent, 'attempts', `Gave up after ${maxAttempts} attempts${status ? '' : `: ${answer}`}`)
    } else if (verdict.refused) {
      queue.remove_(others)
      lane.failures_ = 0
      reporter.sent_(others)
      drop(invalid, 'invalid')
    } else if (verdict.split && rows.length > 1) {
      // Refused whole, most likely for one bad row (or its size): the halves go again, down to
      // single rows, so only rows refused on their own are dropped, each with its own answer.
      stats.splitRequests += 2
      for (const part of halves(rows)) void send(lane, part, false)
    } else {
      drop(rows, 'rejected')
    }
  }

  function pump(lane: Lane): Promise<void> | undefined {
    // Whatever holds it back now pumps it again: an answer, `online`, a push.
    clearTimeout(lane.timer_)
    lane.timer_ = undefined
    // One request out per lane: each fits the keepalive budget, so at page leave every request
    // in flight is left to the browser and nothing is sent twice by the next page. Past half the
    // storage bounds a healthy lane may have more out: a row a next page might send again
    // (upserted by its EVENT_ID) beats a row held in memory only, which a dying page loses.
    const most = queue.isPressed_() && !lane.failures_ ? BURST_REQUESTS : 1
    if (stopped || lane.awaiting_ >= most || !lane.waiting_.length) return
    const offline = isOffline()
    const wait = lane.notBefore_ - Date.now()
    // Bodies that fit the keepalive budget go as keepalive requests, which survive the page:
    // at page leave they can be left to the browser instead of being sent again by the next page.
    if (!offline && wait <= 0) return send(lane, queue.take_(lane, KEEPALIVE_BUDGET, 1), false)
    // Held back until `online`, or for `wait`: its rows will not be delivered soon, they are
    // written now.
    persistence?.writeWithin_(PERSIST_DELAY)
    if (!offline) arm(lane, wait)
  }

  function arm(lane: Lane, ms: number): void {
    lane.timer_ ??= setTimeout(pump, ms, lane)
  }

  return {
    pump_: pump,
    arm_: arm,
    handOff_(lane) {
      for (;;) {
        const rows = queue.take_(lane, KEEPALIVE_BUDGET - keepaliveBytes, 0)
        if (!rows.length) return
        void send(lane, rows, true)
      }
    },
    leave_(final) {
      left ||= final
      for (const request of inflight) {
        request.handedOver_ ||= request.keepaliveBytes_ > 0 && !request.lane_.failures_
        // The browser cancels the page's other requests as it goes: their rows wait again, to be
        // handed over, stored, or reported lost.
        if (final && !request.handedOver_) {
          inflight.delete(request)
          queue.putBack_(request.lane_, request.rows_)
        }
      }
    },
    hasLeft_: () => left,
    resume_() {
      left = false
    },
    unsettled_(lane) {
      const rows: QueuedRow[] = []
      for (const request of inflight) {
        if (request.lane_ === lane && !request.handedOver_) rows.push(...request.rows_)
      }
      return rows
    },
    forget_() {
      for (const request of inflight) {
        if (request.handedOver_) continue
        inflight.delete(request)
        queue.remove_(request.rows_)
      }
    },
    stop_() {
      stopped = true
    },
  }
}
