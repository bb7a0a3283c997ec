/** A request the relay refuses or cannot serve; becomes an SMC-style JSON error answer. */
export class RelayError extends Error {
  override readonly name: string = 'RelayError'

  /** HTTP status of the answer. */
  readonly status: number
  /** Machine-readable reason, e.g. `ERR_QUERY_PARAMETER`. */
  readonly code: string
  /** One description per problem found, when there are several (e.g. one per bad row). */
  readonly details: readonly string[]
  /** Extra answer headers, e.g. `Retry-After` or `Allow`. */
  readonly headers: Readonly<Record<string, string>>

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { details?: readonly string[]; headers?: Readonly<Record<string, string>> } = {},
  ) {
    super(message)
    this.status = status
    this.code = code
    this.details = extra.details ?? [message]
    this.headers = extra.headers ?? {}
  }

  /** The answer body, shaped like SMC's own error body. */
  toJSON(): {
    result_code: string
    message: string
    errors: { error_code: string; description: string }[]
  } {
    return {
      result_code: this.status >= 500 ? 'ServiceUnavailable' : 'Failed',
      message: this.message,
      errors: this.details.map((description) => ({ error_code: this.code, description })),
    }
  }
}

/**
 * The headers of every answer of the relay: its own JSON, never cached, and never sniffed as
 * anything else (an answer can hold text a client wrote, and it comes from the site's origin).
 */
export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
}

/** A JSON answer. */
export const jsonResponse = (
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): Response =>
  new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } })

/** Seconds a browser is told to wait after SMC failed or did not answer, when SMC gave no hint. */
export const RETRY_AFTER_UNAVAILABLE_S = 5

/**
 * Seconds browsers wait while the relay's configuration is wrong (a refused key, an unknown list):
 * only the operator can fix it, and retrying sooner would only spend the budget.
 */
export const RETRY_AFTER_MISCONFIGURED_S = 60

/** Error codes of answers caused by the relay's configuration, not by SMC or the rows. */
export const MISCONFIGURED = new Set([
  'ERR_SMC_CREDENTIALS',
  'ERR_SMC_REDIRECT',
  'ERR_SMC_NOT_FOUND',
])

/** A retryable answer: 503 with `Retry-After`. */
export const unavailable = (
  code: string,
  message: string,
  retryAfterS = RETRY_AFTER_UNAVAILABLE_S,
): RelayError =>
  new RelayError(503, code, message, { headers: { 'Retry-After': String(retryAfterS) } })

/** The relay's configuration is wrong: 502, and browsers keep their rows until it is fixed. */
export const misconfigured = (code: string, message: string): RelayError =>
  new RelayError(502, code, message, {
    headers: { 'Retry-After': String(RETRY_AFTER_MISCONFIGURED_S) },
  })
