/**
 * The relay's shared SMC budget. The bucket holds at most `burst` calls and refills at
 * `perMinute - burst` a minute, so that no 60-second window can see more than `perMinute` calls
 * even starting from a full bucket (SMC counts per minute, not per token).
 */
export class TokenBucket {
  private tokens: number
  private updatedAt: number
  private pausedUntil = 0
  private readonly burst: number
  private readonly refillPerMs: number

  constructor(
    perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.burst = Math.max(1, Math.floor(perMinute * BURST_FRACTION))
    this.refillPerMs = Math.max(perMinute - this.burst, 1) / 60_000
    this.tokens = this.burst
    this.updatedAt = now()
  }

  /** Takes one call from the budget; `false` when there is none left now. */
  take(): boolean {
    this.refill()
    if (this.now() < this.pausedUntil || this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Milliseconds until {@link take} can succeed again. */
  msUntilNext(): number {
    this.refill()
    const pause = this.pausedUntil - this.now()
    const refill = this.tokens >= 1 ? 0 : (1 - this.tokens) / this.refillPerMs
    return Math.ceil(Math.max(pause, refill, 0))
  }

  /** SMC said it is over quota: spend nothing until it has reset, and start again empty. */
  pause(ms: number): void {
    this.refill()
    this.tokens = 0
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms)
  }

  private refill(): void {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + (now - this.updatedAt) * this.refillPerMs)
    this.updatedAt = now
  }
}

/** A tenth of the budget may be spent at once: enough for bursts, and a cold start cannot exceed SMC's window. */
const BURST_FRACTION = 0.1
