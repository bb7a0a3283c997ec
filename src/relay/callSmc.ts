import { isRetryableStatus } from '../smc/isRetryableStatus.js'
import { RelayError } from './RelayError.js'
import type { ResolvedRelayOptions } from './RelayOptions.js'
import type { RelayTarget } from './parseTarget.js'

/** What SMC answered to a call, when it is not a reason to retry. */
export interface SmcAnswer {
  /** SMC's HTTP status. */
  readonly status: number
  /** SMC's `Content-Type`. */
  readonly contentType: string
  /** SMC's body, as text. */
  readonly text: string
}

/** Seconds a browser is told to wait after SMC failed or did not answer, when SMC gave no hint. */
export const RETRY_AFTER_UNAVAILABLE_S = 5
/** Seconds to wait after an SMC 429 without `X-RateLimit-Reset` or `Retry-After`: SMC counts per minute. */
export const RETRY_AFTER_RATE_LIMITED_S = 60

/** Thrown on `rateLimited` so the relay can stop spending its budget until SMC's window resets. */
export class SmcRateLimitedError extends RelayError {
  override readonly name = 'SmcRateLimitedError'

  /** Seconds until SMC's window resets. */
  readonly retryAfterS: number

  constructor(retryAfterS: number) {
    super(429, 'ERR_SMC_RATE_LIMITED', 'SMC is over its request quota; retry later', {
      headers: { 'Retry-After': String(retryAfterS) },
    })
    this.retryAfterS = retryAfterS
  }
}

/**
 * Makes one SMC call with the relay's credentials and nothing of the client's. Answers that a
 * browser should retry become errors: timeouts, network failures, 408, 429 and 5xx as 503/429
 * with `Retry-After`; a refused key becomes 502, since the rows are fine and only the relay's
 * configuration needs fixing, so browsers keep them.
 */
export async function callSmc(
  config: ResolvedRelayOptions,
  target: RelayTarget,
  body: string,
): Promise<SmcAnswer> {
  const controller = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort()
      reject(unavailable('ERR_SMC_TIMEOUT', `SMC did not answer within ${config.timeoutMs} ms`))
    }, config.timeoutMs)
  })
  try {
    // Racing the timeout also covers an injected fetch that ignores the abort signal.
    return await Promise.race([
      send(config, target, body, controller.signal).catch((error: unknown) => {
        throw error instanceof RelayError
          ? error
          : unavailable('ERR_SMC_UNREACHABLE', 'SMC could not be reached')
      }),
      timeout,
    ])
  } finally {
    clearTimeout(timer)
  }
}

async function send(
  config: ResolvedRelayOptions,
  target: RelayTarget,
  body: string,
  signal: AbortSignal,
): Promise<SmcAnswer> {
  const response = await config.fetch(`${config.smcApiUrl}${target.path}?${target.query}`, {
    method: target.method,
    headers: {
      'X-ApiKey': config.apiKeyHeader,
      'Content-Type': 'application/json',
      Accept: 'application/json',
    },
    body,
    signal,
    // A followed redirect would carry X-ApiKey to wherever SMC's answer points.
    redirect: 'manual',
  })
  const text = await response.text()
  const { status } = response
  if (status === 429) {
    throw new SmcRateLimitedError(
      seconds(response.headers.get('x-ratelimit-reset') ?? response.headers.get('retry-after')) ??
        RETRY_AFTER_RATE_LIMITED_S,
    )
  }
  if (isRetryableStatus(status)) {
    const hint = seconds(response.headers.get('retry-after')) ?? RETRY_AFTER_UNAVAILABLE_S
    throw unavailable('ERR_SMC_UNAVAILABLE', `SMC answered ${status}; retry later`, hint)
  }
  if (status === 401 || status === 403) {
    throw new RelayError(
      502,
      'ERR_SMC_CREDENTIALS',
      "SMC refused the relay's credentials; the relay's operator must fix its API key",
      {
        headers: { 'Retry-After': String(RETRY_AFTER_RATE_LIMITED_S) },
      },
    )
  }
  if (status < 200 || (status >= 300 && status < 400)) {
    throw new RelayError(
      502,
      'ERR_SMC_REDIRECT',
      `SMC answered a redirect (${status}); check the relay's SMC admin URL`,
    )
  }
  return { status, contentType: response.headers.get('content-type') ?? 'text/plain', text }
}

const unavailable = (
  code: string,
  message: string,
  retryAfterS = RETRY_AFTER_UNAVAILABLE_S,
): RelayError =>
  new RelayError(503, code, message, { headers: { 'Retry-After': String(retryAfterS) } })

/** A whole number of seconds from `X-RateLimit-Reset` or `Retry-After` (the delta form). */
function seconds(header: string | null): number | undefined {
  if (header === null || !/^\s*\d+\s*$/.test(header)) return undefined
  return Math.max(1, Number(header))
}
