// What an answer means for the rows of its request: the browser's transport acts on it, and the
// relay answers each caller from it (docs/design.md#verdicts).

/**
 * What an answer means for the rows of its request, as the `judge` option says: the transport
 * knows nothing of the server's answers and acts on this alone (docs/design.md#verdicts). One of
 * five cases:
 * - `retry`: the answer says nothing of the rows (no answer, a timeout, a rate limit, a server
 *   error): they are sent again later, no earlier than `retryAfterMs` when the server said so;
 * - `refused`: the rows were delivered, except those at these indices of the request, refused
 *   for good (dropped as `invalid`) for `reason`;
 * - both: the rows at the indices of `refused` are refused for good (dropped as `invalid`) for
 *   `reason`, and the server did not say the others were delivered: they are sent again later;
 * - `split`: the request was refused as a whole, perhaps for one row (or its size): a request of
 *   several rows is sent again in halves, down to single rows;
 * - none: the request was refused as a whole for `reason`, its rows dropped as `rejected`.
 */
export interface Verdict {
  /** The rows not refused are sent again later. */
  readonly retry?: boolean
  /** Milliseconds the server asked to wait before the next request; none: backoff. */
  readonly retryAfterMs?: number | undefined
  /** Indices of the rows refused for good, each with the server's word on it. */
  readonly refused?: Readonly<Record<number, unknown>>
  /** Why rows were refused. */
  readonly reason?: string
  /** Refused as a whole: a request of several rows goes again in halves. */
  readonly split?: boolean
}

/** The headers of an answer, as much of them as a verdict reads. */
export interface AnswerHeaders {
  get(name: string): string | null
}
