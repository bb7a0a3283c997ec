import type { SegmentEvent } from '@segment/analytics-next'

/** What a destination middleware is handed as its event: the event itself, as `obj`. */
export interface MiddlewarePayload {
  /** A copy of the event, for this destination only: the middleware may change it. */
  obj: SegmentEvent
}

/**
 * A destination middleware, as `analytics.addDestinationMiddleware` takes it: it calls `next`
 * with the payload (changed or not) to let the event go on, and drops it by calling
 * `next(null)` or not calling `next` at all.
 */
export type DestinationMiddleware = (params: {
  payload: MiddlewarePayload
  integration: string
  next: (payload: MiddlewarePayload | null) => void
}) => unknown

/**
 * A copy of `value` as analytics-next copies an event for a middleware: plain objects and arrays
 * copied all the way down, anything else (dates, functions) shared.
 */
function copyOf<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copyOf) as T
  if (Object.prototype.toString.call(value) !== '[object Object]') return value
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value as object)) {
    copy[key] = copyOf((value as Record<string, unknown>)[key])
  }
  return copy as T
}

/**
 * Runs `middlewares` on `event` in the order they were added, each on a copy of what the one
 * before let through, awaiting each; resolves with the event they let through, or `null` when one
 * dropped it. Rejects when one throws. The semantics of analytics-next's own
 * `applyDestinationMiddleware` (docs/design.md#destination-middleware).
 */
export async function applyMiddleware(
  event: SegmentEvent,
  middlewares: readonly DestinationMiddleware[],
  integration: string,
): Promise<SegmentEvent | null> {
  let current = event
  for (const middleware of middlewares) {
    let passed: SegmentEvent | null = null
    await middleware({
      payload: { obj: copyOf(current) },
      integration,
      next: (payload) => {
        passed = payload?.obj ?? null
      },
    })
    if (!passed) return null
    current = passed
  }
  return current
}
