import type { RelayTarget } from '../gate/parseTarget.js'
import type { Rows } from '../gate/readRows.js'
import type { Slice } from './splitResult.js'
import type { TakenCall } from '../limits/TokenBucket.js'

/** One caller's answer. */
export interface Answer {
  /** HTTP status. */
  readonly status: number
  /** The body: JSON, always the relay's own text. */
  readonly body: string
  /** Further headers, e.g. `Retry-After`. */
  readonly headers?: Readonly<Record<string, string>>
  /** The relay's error code, when the relay answered itself rather than from SMC's verdict. */
  readonly code?: string
}

/** A caller's rows in a merged call, and the client that pays for its share of the call. */
export interface CallerSlice extends Slice {
  /** The client key of the caller (see clientKey). */
  readonly client: string
}

/** Sends a merged call; resolves to one answer per slice, or rejects with one error for all. */
export type SendMerged = (
  target: RelayTarget,
  rows: readonly (readonly string[])[],
  slices: readonly CallerSlice[],
) => Promise<readonly Answer[]>

/** Group commit: callers for one target share an SMC call. */
export interface Coalescer {
  /**
   * Adds the rows of a caller of `client` to the open call of `batchKey` (callers of one key share
   * a call; by default, those of one target); resolves with the caller's own answer.
   */
  submit(target: RelayTarget, rows: Rows, client: string, batchKey?: string): Promise<Answer>
}

/** Takes an SMC call from the budget if it can be made within `maxWaitMs`. */
export type TakeCall = (maxWaitMs: number) => Promise<TakenCall>

/** How long batches wait and how much they hold. */
export interface CoalescerBounds {
  /** Whether requests join a batch they did not open; without, each batch is one request's. */
  readonly shared: boolean
  /** How long a batch stays open for others after its first request. */
  readonly windowMs: number
  /** How much longer it may wait, still open, for the budget to allow its call. */
  readonly maxWaitMs: number
  /** Rows of a batch at most. */
  readonly maxRows: number
  /** Body bytes of a batch at most. */
  readonly maxBytes: number
}

interface Caller {
  readonly slice: CallerSlice
  readonly resolve: (answer: Answer) => void
  readonly reject: (error: unknown) => void
}

interface Batch {
  /** The key callers join it by. */
  readonly key: string
  readonly target: RelayTarget
  readonly rows: (readonly string[])[]
  readonly callers: Caller[]
  /** When the batch is refused rather than waiting on for the budget. */
  readonly deadline: number
  bytes: number
  leaving: boolean
  timer?: ReturnType<typeof setTimeout>
}

/**
 * A target's first request opens a batch that leaves after `windowMs`, or as soon as it holds
 * `maxRows` rows; a request that would push it past `maxRows` or `maxBytes` closes it first and
 * opens the next. A request alone is never split, so each caller is answered by one SMC call.
 * When its window ends, a batch takes its SMC call from the budget, maybe one it may make only
 * later: until then it waits, and stays open unless full, so that under pressure each call
 * carries more rows instead of callers being refused while calls go out half empty. A batch that
 * cannot get a call within `maxWaitMs` after its window is answered by `refuse`, told how long
 * until the budget could allow one.
 */
export function createCoalescer(
  bounds: CoalescerBounds,
  take: TakeCall,
  send: SendMerged,
  refuse: (target: RelayTarget, waitMs: number) => Answer,
): Coalescer {
  const open = new Map<string, Batch>()

  const close = (batch: Batch): void => {
    clearTimeout(batch.timer)
    if (open.get(batch.key) === batch) open.delete(batch.key)
  }

  const answer = (batch: Batch, answers: Promise<readonly Answer[]>): void =>
    void answers.then(
      (list) =>
        batch.callers.forEach((caller, i) => {
          const one = list[i]
          if (one) caller.resolve(one)
          else caller.reject(new Error(`No answer for caller ${i} of ${batch.target.key}`))
        }),
      (error: unknown) => batch.callers.forEach((caller) => caller.reject(error)),
    )

  const leave = async (batch: Batch): Promise<readonly Answer[]> => {
    const { waitMs, taken } = await take(Math.max(0, batch.deadline - Date.now()))
    if (!taken) {
      close(batch)
      const refused = refuse(batch.target, waitMs)
      return batch.callers.map(() => refused)
    }
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs))
    close(batch)
    return send(
      batch.target,
      batch.rows,
      batch.callers.map((c) => c.slice),
    )
  }

  /** Starts the batch's leaving; it stays open to others until it gets its call or is full. */
  const flush = (batch: Batch): void => {
    clearTimeout(batch.timer)
    if (batch.leaving) return
    batch.leaving = true
    answer(batch, leave(batch))
  }

  const start = (key: string, target: RelayTarget): Batch => {
    const batch: Batch = {
      key,
      target,
      rows: [],
      callers: [],
      bytes: 0,
      leaving: false,
      deadline: Date.now() + bounds.windowMs + bounds.maxWaitMs,
    }
    // A batch nobody else can join has nothing to wait for.
    batch.timer = setTimeout(() => flush(batch), bounds.shared ? bounds.windowMs : 0)
    if (bounds.shared) open.set(key, batch)
    return batch
  }

  return {
    submit(target, { rows, bytes }, client, batchKey = target.key) {
      const full = open.get(batchKey)
      if (
        full &&
        (full.rows.length + rows.length > bounds.maxRows || full.bytes + bytes > bounds.maxBytes)
      ) {
        flush(full)
        close(full)
      }
      const batch = open.get(batchKey) ?? start(batchKey, target)
      const answered = new Promise<Answer>((resolve, reject) => {
        batch.callers.push({
          slice: { offset: batch.rows.length, count: rows.length, client },
          resolve,
          reject,
        })
      })
      batch.rows.push(...rows)
      batch.bytes += bytes
      if (batch.rows.length >= bounds.maxRows) {
        flush(batch)
        close(batch)
      }
      return answered
    },
  }
}
