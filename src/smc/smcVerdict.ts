import type { AnswerHeaders, Verdict } from './Verdict.js'
import { invalidRecords } from './invalidRecords.js'
import { parseJson } from './parseJson.js'
import { isRetryableStatus } from './isRetryableStatus.js'
import { retryAfterMs } from './retryAfterMs.js'

/** A {@link Verdict}, with what only the relay acts on. */
export interface SmcVerdict extends Verdict {
  /**
   * SMC does not know the list or segment (HTTP 404 or `NotFound`): a configuration fault, so
   * the rows are retried (`retry`) while the relay's operator is told what is missing.
   */
  readonly notFound?: boolean
}

/**
 * What SMC's answer to a load or a delete says of the rows of its request, for the browser's
 * direct mode and the relay alike (docs/design.md#verdicts). `status` is the HTTP status (0: no
 * answer), `text` the body: a `LoadDataResponseModel` when SMC answered, anything else otherwise
 * (a proxy's error page, SMC's plain-text 401). `rows`, when known, is how many rows the request
 * held: a listed index past them lists no row. `headers` say how long to wait before a retry
 * (see {@link retryAfterMs}).
 *
 * Never better than SMC's own word: a row counts as stored only when SMC answered 2xx with
 * `Succeeded` or `PartiallySucceeded`, did not list it, and counted no more failures than it
 * listed. So a retryable status, `ServiceUnavailable`, `InternalServerError`, a 404 or `NotFound`
 * retries every row; listed rows are refused, and when SMC did not vouch for the others (another
 * result code, or more failures counted than listed) those are retried; an answer that lists no
 * row and stores none refuses the request as a whole: split in halves when its status says SMC
 * judged the body (400, 413 too large, 422), so that only rows refused on their own are dropped.
 */
export function smcVerdict(
  status: number,
  text: string,
  rows?: number,
  headers?: AnswerHeaders,
): SmcVerdict {
  return smcVerdictOfBody(status, parseJson(text), text, rows, headers)
}

/**
 * {@link smcVerdict} of an answer whose body was parsed already: `body` is its JSON value
 * (`undefined`: not JSON, judged by its status alone). For the relay, which parses SMC's answer
 * once for the verdict, its logs and each caller's share.
 */
export function smcVerdictOfBody(
  status: number,
  body: unknown,
  text: string,
  rows?: number,
  headers?: AnswerHeaders,
): SmcVerdict {
  const result = (body ?? {}) as {
    result_code?: unknown
    invalid_records?: unknown
    number_of_failed_records?: unknown
  }
  const code = result.result_code as string
  const notFound = status === 404 || code === 'NotFound'
  if (
    notFound ||
    isRetryableStatus(status) ||
    /^(ServiceUnavailable|InternalServerError)$/.test(code)
  ) {
    return { retry: true, retryAfterMs: retryAfterMs(headers), notFound }
  }
  const refused: Record<number, unknown> = {}
  let listed = 0
  for (const record of invalidRecords(result) as ({
    record_index?: unknown
    validation_code?: unknown
    message?: unknown
  } | null)[]) {
    const index = record?.record_index
    // A row index: a whole number from 0, below `rows` when that is known.
    if (
      Number.isInteger(index) &&
      (index as number) >= 0 &&
      !((index as number) >= (rows as number)) &&
      !((index as number) in refused)
    ) {
      refused[index as number] = record?.validation_code ?? record?.message
      listed++
    }
  }
  const stored = status > 199 && status < 300 && /^(Partially)?Succeeded$/.test(code)
  if (stored || listed) {
    return {
      refused,
      retry: !stored || (result.number_of_failed_records as number) > listed,
      reason: `SMC refused: ${Object.values(refused).join(',')}`,
    }
  }
  return {
    reason: `SMC refused: ${code || text.slice(0, 200)}`,
    split: status === 400 || status === 413 || status === 422,
  }
}
