import type { InvalidRecordModel, LoadDataResponseModel } from '../smc/LoadDataResponseModel.js'

/** Where one caller's rows sit in a merged SMC call. */
export interface Slice {
  /** Index of the caller's first row in the merged body. */
  readonly offset: number
  /** Number of rows the caller sent. */
  readonly count: number
}

const FAILED = 'number_of_failed_records'

/**
 * Turns SMC's answer to a merged call into one answer per caller, in SMC's own shape and key
 * order: each caller gets the `invalid_records` of its rows, re-indexed to its body, and failure
 * count of its own. SMC reports the other counts (inserted, updated, duplicate, …) only as totals,
 * so they are apportioned: callers in order take from each total as many as they had rows accepted.
 * `listed` holds the row indices the verdict took as listed; other records are left out. Returns
 * `undefined` when the answer is not a result SMC gives for a load.
 */
export function splitResult(
  answer: unknown,
  slices: readonly Slice[],
  listed: Readonly<Record<number, unknown>>,
): LoadDataResponseModel[] | undefined {
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) return undefined
  const model = answer as Record<string, unknown>
  if (typeof model.result_code !== 'string') return undefined

  const invalid = slices.map((): InvalidRecordModel[] => [])
  const records = Array.isArray(model.invalid_records) ? (model.invalid_records as unknown[]) : []
  for (const record of records) {
    const index = (record as Partial<InvalidRecordModel> | null)?.record_index
    if (typeof index !== 'number' || !(index in listed)) continue
    const owner = slices.findIndex((s) => index >= s.offset && index < s.offset + s.count)
    const slice = slices[owner]
    if (slice)
      invalid[owner]?.push({
        ...(record as InvalidRecordModel),
        record_index: index - slice.offset,
      })
  }

  const totals = new Map<string, number>()
  for (const [key, value] of Object.entries(model)) {
    if (key.startsWith('number_of_') && key !== FAILED && typeof value === 'number')
      totals.set(key, value)
  }

  return slices.map((slice, i) => {
    const own = invalid[i] ?? []
    const failed = new Set(own.map((r) => r.record_index)).size
    let unassigned = slice.count - failed
    const counts = new Map<string, number>()
    for (const [key, total] of totals) {
      const share = Math.min(total, unassigned)
      counts.set(key, share)
      totals.set(key, total - share)
      unassigned -= share
    }
    const result: Record<string, unknown> = {}
    for (const key of Object.keys(model)) {
      if (key === 'result_code') result[key] = resultCode(failed, slice.count)
      else if (key === 'invalid_records') result[key] = own
      else if (key === FAILED) result[key] = failed
      else if (counts.has(key)) result[key] = counts.get(key)
      else result[key] = model[key]
    }
    result.invalid_records ??= own
    result[FAILED] ??= failed
    return result as unknown as LoadDataResponseModel
  })
}

/** The code SMC gives a call with these counts; a caller's answer reads as if it had called alone. */
const resultCode = (failed: number, rows: number): string =>
  failed === 0 ? 'Succeeded' : failed < rows ? 'PartiallySucceeded' : 'Failed'
