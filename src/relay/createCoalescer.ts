import type { RelayTarget } from './parseTarget.js'
import type { Rows } from './readRows.js'
import type { Slice } from './splitResult.js'

/** One caller's answer. */
export interface Answer {
  /** HTTP status. */
  readonly status: number
  /** `Content-Type` of the body. */
  readonly contentType: string
  /** The body. */
  readonly body: string
  /** Further headers, e.g. `Retry-After`. */
  readonly headers?: Readonly<Record<string, string>>
}

/** Sends a merged call; resolves to one answer per slice, or rejects with one error for all. */
export type SendMerged = (
  target: RelayTarget,
  rows: readonly (readonly string[])[],
  slices: readonly Slice[],
) => Promise<readonly Answer[]>

/** Group commit: callers for one target share an SMC call. */
export interface Coalescer {
  /** Adds a caller's rows to the open call of its target; resolves with the caller's own answer. */
  submit(target: RelayTarget, rows: Rows): Promise<Answer>
}

interface Caller {
  readonly slice: Slice
  readonly resolve: (answer: Answer) => void
  readonly reject: (error: unknown) => void
}

interface Batch {
  readonly target: RelayTarget
  readonly rows: (readonly string[])[]
  readonly callers: Caller[]
  bytes: number
  timer?: ReturnType<typeof setTimeout>
}

/**
 * A target's first request opens a batch that leaves after `windowMs`, or as soon as it holds
 * `maxRows` rows; a request that would push it past `maxRows` or `maxBytes` sends it first and
 * opens the next. A request alone is never split, so each caller is answered by one SMC call.
 */
export function createCoalescer(
  windowMs: number,
  maxRows: number,
  maxBytes: number,
  send: SendMerged,
): Coalescer {
  const open = new Map<string, Batch>()

  const flush = (batch: Batch): void => {
    clearTimeout(batch.timer)
    open.delete(batch.target.key)
    void send(
      batch.target,
      batch.rows,
      batch.callers.map((c) => c.slice),
    ).then(
      (answers) =>
        batch.callers.forEach((caller, i) => {
          const answer = answers[i]
          if (answer) caller.resolve(answer)
          else caller.reject(new Error(`No answer for caller ${i} of ${batch.target.key}`))
        }),
      (error: unknown) => batch.callers.forEach((caller) => caller.reject(error)),
    )
  }

  const start = (target: RelayTarget): Batch => {
    const batch: Batch = { target, rows: [], callers: [], bytes: 0 }
    batch.timer = setTimeout(() => flush(batch), windowMs)
    open.set(target.key, batch)
    return batch
  }

  return {
    submit(target, { rows, bytes }) {
      const full = open.get(target.key)
      if (full && (full.rows.length + rows.length > maxRows || full.bytes + bytes > maxBytes))
        flush(full)
      const batch = open.get(target.key) ?? start(target)
      const answer = new Promise<Answer>((resolve, reject) => {
        batch.callers.push({
          slice: { offset: batch.rows.length, count: rows.length },
          resolve,
          reject,
        })
      })
      batch.rows.push(...rows)
      batch.bytes += bytes
      if (batch.rows.length >= maxRows) flush(batch)
      return answer
    },
  }
}
