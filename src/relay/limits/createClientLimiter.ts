/** Counts, per client, its requests and what they cost SMC, in fixed one-minute windows. */
export interface ClientLimiter {
  /** Counts a request of `client`; returns the milliseconds to wait when over a limit, else 0. */
  hit(client: string): number
  /** Adds `milliCalls` thousandths of an SMC call to what `client` cost in this window. */
  charge(client: string, milliCalls: number): void
}

/** The length of a window, in milliseconds. */
export const WINDOW_MS = 60_000

/** What a client's SMC calls are counted in: thousandths, so a shared call splits in whole units. */
export const MILLI_CALLS = 1000

/**
 * A fixed window, not a bucket per client: the whole table is dropped when the window turns, so
 * memory stays bounded by the clients of one minute without any sweeping. `perMinute` requests
 * and `callsPerMinute` SMC calls a client may cost (0: no limit), see {@link clientWaitMs}.
 */
export function createClientLimiter(
  perMinute: number,
  callsPerMinute: number,
  now: () => number = Date.now,
): ClientLimiter {
  let windowStart = now()
  let counts = new Map<string, { requests: number; milliCalls: number }>()
  const countOf = (client: string) => {
    const time = now()
    if (time - windowStart >= WINDOW_MS) {
      windowStart = time
      counts = new Map()
    }
    let count = counts.get(client)
    if (!count) counts.set(client, (count = { requests: 0, milliCalls: 0 }))
    return count
  }
  return {
    hit(client) {
      if (perMinute === 0 && callsPerMinute === 0) return 0
      const count = countOf(client)
      count.requests++
      return clientWaitMs(
        count.requests,
        count.milliCalls,
        now() - windowStart,
        perMinute,
        callsPerMinute,
      )
    },
    charge(client, milliCalls) {
      if (callsPerMinute > 0) countOf(client).milliCalls += milliCalls
    },
  }
}

/**
 * The share of its calls a minute a client may cost at once, at the start of its window; the rest
 * comes at the budget's pace, so that clients cannot spend a minute's share in its first seconds.
 */
const CLIENT_BURST = 0.1

/**
 * The milliseconds a client with these counts, `elapsedMs` into its window, must wait before its
 * next request (0: none): past `perMinute` requests, until the window turns; past what its
 * `callsPerMinute` allow by now, until they allow more. 0 turns either limit off.
 */
export function clientWaitMs(
  requests: number,
  milliCalls: number,
  elapsedMs: number,
  perMinute: number,
  callsPerMinute: number,
): number {
  const windowLeft = Math.max(1, WINDOW_MS - elapsedMs)
  if (perMinute > 0 && requests > perMinute) return windowLeft
  if (callsPerMinute === 0) return 0
  const spent = milliCalls / (callsPerMinute * MILLI_CALLS)
  const allowed = Math.min(1, CLIENT_BURST + elapsedMs / WINDOW_MS)
  if (spent < allowed) return 0
  return spent >= 1
    ? windowLeft
    : Math.max(1, Math.ceil((spent - CLIENT_BURST) * WINDOW_MS - elapsedMs))
}
