/** Wait after a target's first failure, doubled after each further failure in a row. */
const BASE_MS = 500
/** Longest computed wait, so a long outage is still probed about once a minute. */
const CAP_MS = 60_000
/** Longest server-requested wait obeyed, so a wrong header cannot stall a target for hours. */
const MAX_REQUESTED_MS = 600_000

/**
 * Milliseconds to wait before a target is tried again after its `failures`-th failure in a row.
 * A wait the server asked for (the verdict's `retryAfterMs`) is obeyed as given: retrying earlier
 * only burns the site-wide quota of 2,500 requests a minute. Otherwise exponential backoff with
 * "equal jitter" (half fixed, half random), so the browsers of many visitors hit by one outage do
 * not come back in lockstep.
 */
export function retryDelay(failures: number, requestedMs?: number): number {
  if (requestedMs !== undefined) return Math.min(requestedMs, MAX_REQUESTED_MS)
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** (failures - 1))
  return (ceiling * (1 + Math.random())) / 2
}
