/** How a budget of `perMinute` calls is spent: a bucket of `burst` calls refilled at `refillPerMs`. */
export interface BucketShape {
  /** Calls that may be spent at once. */
  readonly burst: number
  /** Calls added back per millisecond. */
  readonly refillPerMs: number
}

/**
 * The bucket holds at most `burst` calls and refills at `perMinute - burst` a minute, so that no
 * 60-second window can see more than `perMinute` calls even starting from a full bucket (SMC
 * counts per minute, not per token). The shared budget (createSharedLimits) has the same shape.
 */
export function bucketShape(perMinute: number): BucketShape {
  const burst = Math.max(1, Math.floor(perMinute * BURST_FRACTION))
  return { burst, refillPerMs: Math.max(perMinute - burst, 1) / 60_000 }
}

/** A call asked of a budget: whether it was taken, and in how many milliseconds it may (or could) be made. */
export interface TakenCall {
  /** Milliseconds until the call may be made; if not taken, until one could be. */
  readonly waitMs: number
  /** Whether the call is the caller's. */
  readonly taken: boolean
}

/**
 * The relay's SMC budget within one process (see {@link bucketShape}). A call may be taken ahead
 * of time, the bucket going below empty, so that callers waiting for the budget are served in
 * the order they asked, each at its time, instead of racing for each refill.
 */
export class TokenBucket {
  private tokens: number
  private updatedAt: number
  private pausedUntil = 0
  private readonly shape: BucketShape

  constructor(
    perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.shape = bucketShape(perMinute)
    this.tokens = this.shape.burst
    this.updatedAt = now()
  }

  /**
   * Takes one call from the budget if it can be made within `maxWaitMs`: the call is then the
   * caller's, to be made after `waitMs`; otherwise nothing is taken, and `waitMs` says how long
   * until one could be.
   */
  take(maxWaitMs = 0): TakenCall {
    this.refill()
    const pause = this.pausedUntil - this.now()
    const refill = this.tokens >= 1 ? 0 : (1 - this.tokens) / this.shape.refillPerMs
    const waitMs = Math.ceil(Math.max(pause, refill, 0))
    const taken = waitMs <= maxWaitMs
    if (taken) this.tokens -= 1
    return { waitMs, taken }
  }

  /** Calls that could be taken now (0 while paused). */
  left(): number {
    this.refill()
    return this.now() < this.pausedUntil ? 0 : Math.max(0, Math.floor(this.tokens))
  }

  /** Spend nothing for `ms` (SMC said it is over quota until then), and start again empty. */
  pause(ms: number): void {
    this.refill()
    // Calls taken ahead of time stay taken.
    this.tokens = Math.min(this.tokens, 0)
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms)
  }

  private refill(): void {
    const now = this.now()
    this.tokens = Math.min(
      this.shape.burst,
      this.tokens + (now - this.updatedAt) * this.shape.refillPerMs,
    )
    this.updatedAt = now
  }
}

/** A tenth of the budget may be spent at once: enough for bursts, and a cold start cannot exceed SMC's window. */
const BURST_FRACTION = 0.1
