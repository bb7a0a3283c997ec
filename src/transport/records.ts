import type { Target } from '../smc/Target.js'

// The transport's records. Their property names end in `_`: the browser build shortens them
// (docs/design.md#readable-names-shortened-by-the-build), and none of them leaves the transport.

/** A queued row. */
export interface QueuedRow {
  /** The id it was pushed with. */
  readonly id_: string
  /**
   * The row as ASCII JSON (see {@link toAsciiJson}), computed once: request bodies and storage are
   * joins of these, and its length is its size in bytes.
   */
  readonly json_: string
  /** Tries that failed retryably. */
  tries_: number
  /** Push order across lanes, to find the oldest row past a bound. */
  readonly order_: number
  /** The storage chunk it is written in; `undefined` while it is held in memory only. */
  chunk_: number | undefined
}

/** The rows of one target and its delivery state; lanes never wait for one another. */
export interface Lane {
  /** The target. */
  readonly target_: Target
  /** Rows waiting, oldest first. */
  waiting_: QueuedRow[]
  /** Every waiting row before this index is held in memory only: where the oldest stored row is
   * looked for. */
  firstStored_: number
  /** The storage chunk its new rows join, and the bytes of rows (as stored) it was given so far. */
  chunk_: number
  chunkBytes_: number
  /** Requests awaiting an answer. */
  awaiting_: number
  /** Retryable failures in a row; a failing lane sends nothing at page leave. */
  failures_: number
  /** No request before this time (backoff, or the wait the server asked for). */
  notBefore_: number
  /** The timer that will pump it. */
  timer_: ReturnType<typeof setTimeout> | undefined
}

/**
 * JSON of a row or an id with every non-ASCII character escaped (`"é"` → `"\u00e9"`, the same
 * JSON): its length is its size in bytes, and storage holds it as one-byte text
 * (docs/design.md#ascii-rows).
 */
export const toAsciiJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /[^\0-\x7f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )

/** Bytes of a row as stored: its JSON, its id, and `[tries,"…",…],` around them. */
export const storedSize = (row: QueuedRow): number => row.json_.length + row.id_.length + 8

/** A request body: the rows as one JSON array. */
export const bodyOf = (rows: readonly QueuedRow[]): string =>
  `[${rows.map((row) => row.json_).join(',')}]`

/** A request's URL: the target's path and query below `baseUrl`. */
export const urlOf = (baseUrl: string, { path, query }: Target): string =>
  `${baseUrl}${path}?${query}`

/** Rows cut in two halves (the second the larger when odd), to be offered again one by one. */
export const halves = (rows: QueuedRow[]): QueuedRow[][] => {
  const half = Math.floor(rows.length / 2)
  return [rows.slice(0, half), rows.slice(half)]
}
