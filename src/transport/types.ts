import type { Row, Target } from '../smc/Target.js'
import type { AnswerHeaders, Verdict } from '../smc/Verdict.js'
import type { DeliveryError } from './DeliveryError.js'

/** What happened to rows, reported to the transport's owner. */
export interface DeliveryReport {
  /** `sent`: accepted by the server. `dropped`: permanently failed, will not be retried. */
  readonly type: 'sent' | 'dropped'
  /** The ids the rows were pushed with. */
  readonly ids: readonly string[]
  /** Why the rows were dropped; it names their target. */
  readonly reason?: DeliveryError
}

/** Counters of what the transport has done since it was created. */
export interface TransportStats {
  /** Rows held now: waiting, or in a request whose answer has not come. */
  readonly queued: number
  /**
   * Of `queued`, the rows held in memory only: past the storage bounds (`maxQueueRows`,
   * `maxQueueBytes`; the oldest rows, which are sent first), or all of them when nothing is
   * stored (persistence off, no Web Locks). A page that dies loses these; a page left reports
   * those it could not hand to the browser as `lost`. Rows not written yet because they may be
   * delivered first are not counted (docs/design.md#deferred-writes).
   */
  readonly memoryOnly: number
  /** Rows the server accepted. */
  sent: number
  /** Requests sent with `fetch` (beacons are counted in `beaconed`). */
  requests: number
  /**
   * Of `requests`, those that re-sent half of a request refused whole (the verdict's `split`), to find
   * the rows refused on their own.
   */
  splitRequests: number
  /** Rows queued again after a retryable failure (network error, 408, 429, 5xx). */
  retried: number
  /** Rows handed to `navigator.sendBeacon` at page leave, whose outcome no page can observe. */
  beaconed: number
  /**
   * Rows given up on, by reason: `rejected` (a 4xx other than 408/429, or a failed
   * `result_code`; refused on its own), `invalid` (listed in `invalid_records`), `attempts`
   * (still failing after `maxAttempts` tries), `overflow` (pushed out past the memory bounds),
   * `lost` (held in memory only when the page was left), `consent` (discarded when consent was
   * withdrawn, in this tab or another).
   */
  dropped: Record<string, number>
  /**
   * Calls never queued, by reason, as their owner counts them: `consent` (the visitor had not
   * granted every category of `consentCategories`), `middleware` (dropped by a destination
   * middleware, or one threw).
   */
  skipped: Record<string, number>
}

/** Resolved options of a transport; every field has been defaulted by its owner. */
export interface TransportOptions {
  /** Base URL the target paths are appended to. */
  readonly baseUrl: string
  /** Headers of every request (credentials in direct mode, `Content-Type`). */
  readonly headers: Readonly<Record<string, string>>
  /** Rows per request at most; a target holding this many is flushed at once. */
  readonly batchSize: number
  /** Milliseconds a row may wait for others before its target is flushed. */
  readonly flushInterval: number
  /** Rows stored at most; past it the oldest are held in memory only. */
  readonly maxQueueRows: number
  /**
   * Bytes of rows stored at most, counted as stored (row JSON, id, attempt count); past it the
   * oldest are held in memory only.
   */
  readonly maxQueueBytes: number
  /** Rows held at most, stored or not; past it the oldest are dropped (reason `overflow`). */
  readonly maxMemoryRows: number
  /** Bytes of rows held at most, counted as stored; past it the oldest are dropped (`overflow`). */
  readonly maxMemoryBytes: number
  /** Tries per row before it is dropped (reason `attempts`). */
  readonly maxAttempts: number
  /**
   * localStorage key prefix the queue persists under (one per organization + data list): each
   * tab's queue goes under `{storageKey}/{tab id}#{chunk}` keys. `undefined` keeps the queue in
   * memory only.
   */
  readonly storageKey: string | undefined
  /**
   * Judges the answer to a request of `rows` rows: its HTTP status (0: no answer), body and
   * headers (none without an answer).
   */
  readonly judge: (status: number, text: string, rows: number, headers?: AnswerHeaders) => Verdict
  /**
   * Name of the BroadcastChannel on which tabs tell one another to discard their queues (see
   * {@link Transport.discard}); `undefined`: this transport never hears of another tab's discard.
   */
  readonly discardChannel: string | undefined
  /** Called for every delivery outcome. */
  readonly onReport: (report: DeliveryReport) => void
  /** Logs each request and its answer to the console (at the level Chrome shows by default). */
  readonly debug: boolean
}

/** Queues rows per target and delivers them. */
export interface Transport {
  /** Queue a row for a target; `id` names it in reports (the event's `messageId`). */
  push(target: Target, row: Row, id: string): void
  /**
   * Send now what may be sent now: one request per target that is not already waiting for an
   * answer, offline, or backing off after a failure. Resolves when those requests have settled.
   */
  flush(): Promise<void>
  /**
   * Stops the transport: listeners removed, nothing sent or written any more, the queue left
   * persisted for another tab or the next page. Rows pushed afterwards are ignored.
   */
  close(): void
  /**
   * Discards every row not sent yet, reported dropped as `consent`: those held here, those stored
   * by any tab, and those of the other tabs on the same `discardChannel`. Requests already out are
   * not recalled. Until the next push, rows adopted from a gone tab are discarded too.
   */
  discard(): void
  /** Live counters. */
  readonly stats: Readonly<TransportStats>
}
