// The transport's budgets and delays (docs/design.md#transport).

/**
 * Bytes of request bodies kept in keepalive flight at once. Chrome refuses keepalive requests
 * (and beacons) past 64 KiB in flight per page, a quota shared with the site's own beacons:
 * leave them a little.
 */
export const KEEPALIVE_BUDGET = 60_000

/**
 * Milliseconds a change waits before it is written, at least; and at least 10 times what the last
 * write took. A burst of changes becomes one write, and however long the queue, writing takes at
 * most about a tenth of the main thread.
 */
export const PERSIST_DELAY = 100

/**
 * Milliseconds a new row is held in memory only while one request can carry everything held: the
 * default `flushInterval` and a second for the answer. A row delivered within it is never written,
 * so a page view that is answered costs no storage write; a row held longer (a slow answer, a long
 * `flushInterval`) is written then. More rows held than a request carries (a burst), or a lane
 * that cannot send (offline, backing off, failed), and rows are written after
 * {@link PERSIST_DELAY} as ever. Hiding or leaving the page writes at once, so only a crash can
 * lose this window (docs/design.md#deferred-writes).
 */
export const WRITE_AFTER = 2000

/** Requests one target may have out at once while the queue is past half its storage bounds. */
export const BURST_REQUESTS = 4

/**
 * Bytes of rows a storage chunk takes before the next rows start a new one: a write costs at most
 * about this much besides the rows that are new (docs/design.md#chunked-storage).
 */
export const CHUNK_BYTES = 32_768
