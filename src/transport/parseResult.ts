/** The part of SMC's `LoadDataResponseModel` the transport acts on. */
export interface LoadResult {
  /** `Succeeded`, `PartiallySucceeded`, `Failed`, … */
  readonly resultCode: string
  /** Indexes (into the request's rows) of rows SMC refused, with its message. */
  readonly invalid: ReadonlyMap<number, string>
}

/** Reads a response body that may be JSON, a plain string (SMC's 401/404) or empty. */
export function parseResult(text: string): LoadResult {
  const invalid = new Map<number, string>()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return { resultCode: '', invalid }
  }
  if (!body || typeof body !== 'object') return { resultCode: '', invalid }
  const model = body as { result_code?: unknown; invalid_records?: unknown }
  if (Array.isArray(model.invalid_records)) {
    for (const record of model.invalid_records as {
      record_index?: unknown
      message?: unknown
      validation_code?: unknown
    }[]) {
      if (typeof record?.record_index === 'number') {
        invalid.set(
          record.record_index,
          String(record.validation_code ?? record.message ?? 'invalid'),
        )
      }
    }
  }
  return { resultCode: typeof model.result_code === 'string' ? model.result_code : '', invalid }
}
