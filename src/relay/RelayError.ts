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
