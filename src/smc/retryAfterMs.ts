import type { AnswerHeaders } from './Verdict.js'

/**
 * Milliseconds an answer asks to wait before the next request: SMC's `X-RateLimit-Reset`
 * (seconds, sent with 429), else `Retry-After` (seconds or an HTTP date, as the relay sends it).
 * `undefined` when neither says a wait: missing, unreadable, or a time already past (a hint of 0
 * reads as the epoch).
 */
export function retryAfterMs(headers: AnswerHeaders | undefined): number | undefined {
  const hint = headers?.get('X-RateLimit-Reset') ?? headers?.get('Retry-After')
  if (!hint) return undefined
  const ms = Number(hint) * 1000 || Date.parse(hint) - Date.now()
  return ms >= 0 ? ms : undefined
}
