import { invalidRecords } from '../../smc/invalidRecords.js'
import type { InvalidRecordModel } from '../../smc/LoadDataResponseModel.js'

/** Where one caller's rows sit in a merged SMC call. */
export interface Slice {
  /** Index of the caller's first row in the merged body. */
  readonly offset: number
  /** Number of rows the caller sent. */
  readonly count: number
}

/**
 * What one caller hears of SMC's answer: all the browser reads of it (the verdict's inputs), and
 * nothing about anyone else's rows (docs/relay.md#what-an-answer-reveals).
 */
export interface CallerResult {
  /** The code SMC would have given the caller's rows alone. */
  readonly result_code: string
  /** How many of the caller's rows SMC refused. */
  readonly number_of_failed_records: number
  /** SMC's records of the caller's refused rows, re-indexed to its body. */
  readonly invalid_records: readonly InvalidRecordModel[]
}

/**
 * Turns SMC's answer to a merged call into one answer per caller: each caller gets the
 * `invalid_records` of its rows, re-indexed to its body, its own failure count, and the result
 * code these give. SMC's other counts (inserted against updated, deleted against not found) tell
 * whether a key is already in a list or someone is in a segment, and its top-level `message` and
 * `errors` may name any caller's rows, so none of them is passed on. `listed` holds the row
 * indices the verdict took as listed; other records are left out. Returns `undefined` when the
 * answer is not a result SMC gives for a load.
 */
export function splitResult(
  answer: unknown,
  slices: readonly Slice[],
  listed: Readonly<Record<number, unknown>>,
): CallerResult[] | undefined {
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) return undefined
  const model = answer as Record<string, unknown>
  if (typeof model.result_code !== 'string') return undefined

  const invalid = slices.map((): InvalidRecordModel[] => [])
  for (const record of invalidRecords(model)) {
    const index = (record as Partial<InvalidRecordModel> | null)?.record_index
    if (typeof index !== 'number' || !(index in listed)) continue
    const owner = slices.findIndex((s) => index >= s.offset && index < s.offset + s.count)
    const slice = slices[owner]
    if (slice) invalid[owner]?.push(ownRecord(record as InvalidRecordModel, index - slice.offset))
  }

  return slices.map((slice, i) => {
    const own = invalid[i] ?? []
    const failed = new Set(own.map((r) => r.record_index)).size
    return {
      result_code: resultCode(failed, slice.count),
      number_of_failed_records: failed,
      invalid_records: own,
    }
  })
}

/** SMC's record of a refused row, with only the fields SMC documents, at the caller's index. */
const ownRecord = (record: InvalidRecordModel, index: number): InvalidRecordModel => ({
  record_index: index,
  field_name: record.field_name,
  message: record.message,
  validation_code: record.validation_code,
})

/** The code SMC gives a call with these counts; a caller's answer reads as if it had called alone. */
const resultCode = (failed: number, rows: number): string =>
  failed === 0 ? 'Succeeded' : failed < rows ? 'PartiallySucceeded' : 'Failed'
