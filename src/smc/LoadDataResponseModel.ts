/** SMC's `InvalidRecordModel`: one row SMC refused. */
export interface InvalidRecordModel {
  /** Index of the row in the request body. */
  record_index: number
  /** The column at fault, or `null` for the whole row. */
  field_name: string | null
  /** SMC's explanation. */
  message: string
  /** `Unknown`, `InvalidFieldCount`, `MaxStringLengthExceeded` or `InvalidType`. */
  validation_code: string
}

/**
 * SMC's `LoadDataResponseModel` (and, without the insert and update counts, its
 * `DeleteDataResponseModel`): the `number_of_*` counts are those SMC sent.
 */
export interface LoadDataResponseModel {
  /** `Succeeded`, `PartiallySucceeded`, `Failed`, … */
  result_code: string
  /** SMC's errors, usually `null`. */
  errors: unknown
  /** The rows SMC refused. */
  invalid_records: InvalidRecordModel[]
  /** `number_of_inserted_records`, `number_of_failed_records`, … */
  [count: `number_of_${string}`]: number
}
