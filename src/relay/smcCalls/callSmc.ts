import { misconfigured, RelayError, unavailable } from '../RelayError.js'
import type { ResolvedRelayOptions } from '../config/ResolvedRelayOptions.js'
import type { RelayTarget } from '../gate/parseTarget.js'

/** What SMC answered to a call; what it means for the rows is the verdict's to say. */
export interface SmcAnswer {
  /** SMC's HTTP status. */
  readonly status: number
  /** SMC's body, as text. */
  readonly text: string
  /** Seconds SMC asked callers to wait (`Retry-After`), if it did. */
  readonly retryAfterS: number | undefined
}

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
 * Makes one SMC call with the relay's credentials and nothing of the client's. What only the
 * relay can act on becomes an error here: no answer in time, or a network failure naming its
 * cause, as 503 with `Retry-After`; SMC's 429 (so the budget pauses); a refused key or a
 * redirect as 502, since the rows are fine and only the relay's configuration needs fixing, so
 * browsers keep them. Every other answer is returned for the verdict to judge.
 */
export async function callSmc(
  config: ResolvedRelayOptions,
  target: RelayTarget,
  body: string,
): Promise<SmcAnswer> {
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, config.timeoutMs)
  // A call ends when its fetch has given up (its socket closed), so that calls counted as in
  // flight are the sockets SMC holds; a fetch that ignores the abort is abandoned shortly after.
  let abandonTimer: ReturnType<typeof setTimeout> | undefined
  const abandoned = new Promise<never>((_, reject) => {
    abandonTimer = setTimeout(reject, config.timeoutMs + ABANDON_AFTER_ABORT_MS)
  })
  try {
    return await Promise.race([send(config, target, body, controller.signal), abandoned])
  } catch (error) {
    if (timedOut) {
      throw unavailable('ERR_SMC_TIMEOUT', `SMC did not answer within ${config.timeoutMs} ms`)
    }
    if (error instanceof RelayError) throw error
    throw unavailable('ERR_SMC_UNREACHABLE', `SMC could not be reached: ${networkCause(error)}`)
  } finally {
    clearTimeout(timer)
    clearTimeout(abandonTimer)
  }
}

/** How long an aborted fetch may take to give up before the relay stops waiting for it. */
const ABANDON_AFTER_ABORT_MS = 1000

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
  if (status === 401 || status === 403) {
    throw misconfigured(
      'ERR_SMC_CREDENTIALS',
      status === 401
        ? "SMC refused the relay's API key (401); the relay's operator must fix SMC_API_KEY and SMC_API_SECRET"
        : "SMC refused the relay access (403); the relay's operator must check the API key, its IP restrictions and SMC_ORGANIZATION",
    )
  }
  if (status < 200 || (status >= 300 && status < 400)) {
    throw misconfigured(
      'ERR_SMC_REDIRECT',
      `SMC answered a redirect (${status}); check the relay's SMC admin URL`,
    )
  }
  return {
    status,
    text,
    retryAfterS: seconds(response.headers.get('retry-after')),
  }
}

/** Names of the system error codes a failed connection to SMC carries, by what went wrong. */
const NETWORK_CAUSES: readonly [RegExp, string][] = [
  [/^ECONNREFUSED$/, 'connection refused'],
  [/^(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL)$/, 'DNS lookup failed'],
  [/^(ERR_SSL_|ERR_TLS_|CERT_|EPROTO$|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/, 'TLS failed'],
  [/^(ECONNRESET|EPIPE|UND_ERR_SOCKET)$/, 'connection closed by SMC'],
  [/^(ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT)$/, 'timeout'],
  [/^(ENETUNREACH|EHOSTUNREACH|ENETDOWN|EHOSTDOWN)$/, 'network unreachable'],
]

/**
 * What made a fetch fail, from the error's cause chain (undici puts the system error in
 * `cause`, sometimes one level deeper): e.g. `connection refused (ECONNREFUSED)`. Runtimes that
 * give no code get the cause's message.
 */
export function networkCause(error: unknown): string {
  let message = ''
  for (let cause = error, depth = 0; cause && depth < 4; depth++) {
    const {
      code,
      message: text,
      cause: next,
    } = cause as {
      code?: unknown
      message?: unknown
      cause?: unknown
    }
    if (typeof code === 'string') {
      const kind = NETWORK_CAUSES.find(([pattern]) => pattern.test(code))?.[1] ?? 'network error'
      return `${kind} (${code})`
    }
    if (typeof text === 'string' && text) message = text
    cause = next
  }
  return message || 'network error'
}

/** A whole number of seconds from `X-RateLimit-Reset` or `Retry-After` (the delta form). */
function seconds(header: string | null): number | undefined {
  if (header === null || !/^\s*\d+\s*$/.test(header)) return undefined
  return Math.max(1, Number(header))
}
