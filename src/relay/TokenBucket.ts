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

/** The relay's SMC budget within one process (see {@link bucketShape}). */
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

  /** Takes one call from the budget; `false` when there is none left now. */
  take(): boolean {
    this.refill()
    if (this.now() < this.pausedUntil || this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Calls that could be taken now (0 while paused). */
  left(): number {
    this.refill()
    return this.now() < this.pausedUntil ? 0 : Math.floor(this.tokens)
  }

  /** Milliseconds until {@link take} can succeed again. */
  msUntilNext(): number {
    this.refill()
    const pause = this.pausedUntil - this.now()
    const refill = this.tokens >= 1 ? 0 : (1 - this.tokens) / this.shape.refillPerMs
    return Math.ceil(Math.max(pause, refill, 0))
  }

  /** Spend nothing for `ms` (SMC said it is over quota until then), and start again empty. */
  pause(ms: number): void {
    this.refill()
    this.tokens = 0
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
