/** Counts requests per client in fixed one-minute windows. */
export interface ClientLimiter {
  /** Counts a request of `client`; returns the milliseconds to wait when over the limit, else 0. */
  hit(client: string): number
}

/** The length of a window, in milliseconds. */
export const WINDOW_MS = 60_000

/**
 * A fixed window, not a bucket per client: the whole table is dropped when the window turns, so
 * memory stays bounded by the clients of one minute without any sweeping.
 */
export function createClientLimiter(
  perMinute: number,
  now: () => number = Date.now,
): ClientLimiter {
  let windowStart = now()
  let counts = new Map<string, number>()
  return {
    hit(client) {
      if (perMinute === 0) return 0
      const time = now()
      if (time - windowStart >= WINDOW_MS) {
        windowStart = time
        counts = new Map()
      }
      const count = (counts.get(client) ?? 0) + 1
      counts.set(client, count)
      return count > perMinute ? windowStart + WINDOW_MS - time : 0
    },
  }
}
