import { callSmc, SmcRateLimitedError } from './callSmc.js'
import { createClientLimiter } from './createClientLimiter.js'
import { createCoalescer, type Answer, type SendMerged } from './createCoalescer.js'
import { createRedactor } from './createRedactor.js'
import { corsPolicy, preflightResponse, type CorsDecision } from './corsPolicy.js'
import { parseTarget } from './parseTarget.js'
import { readRows } from './readRows.js'
import { jsonResponse, RelayError } from './RelayError.js'
import type { RelayLogEntry, RelayOptions } from './RelayOptions.js'
import { resolveRelayOptions } from './resolveRelayOptions.js'
import { splitResult } from './splitResult.js'
import { TokenBucket } from './TokenBucket.js'

/** What a runtime adapter knows about a request beyond the `Request` itself. */
export interface ClientInfo {
  /** The client's network address, used for the per-client rate limit. */
  readonly address?: string
  /** The request target exactly as received (`/path?query`), before URL normalization. */
  readonly rawTarget?: string
}

/** The relay: a WHATWG fetch handler. */
export type Relay = (request: Request, client?: ClientInfo) => Promise<Response>

/** Longest path shown in a log line; paths come from clients and may be anything. */
const MAX_LOGGED_PATH = 200

/**
 * Creates the relay (docs/design.md#relay): a fetch handler that accepts only the plugin's
 * requests (docs/design.md#targets), merges those for the same target into one SMC call made with
 * its own credentials, and answers each caller with its own SMC result. Throws {@link RelayConfigError} naming every bad option.
 */
export function createRelay(options: RelayOptions): Relay {
  const config = resolveRelayOptions(options)
  const redact = createRedactor(config.secrets)
  const log = (entry: RelayLogEntry): void => config.log(redact.value(entry))
  const budget = new TokenBucket(config.budgetPerMinute)
  const clients = createClientLimiter(config.rateLimitPerClient)

  const sendMerged: SendMerged = async (target, rows, slices) => {
    if (!budget.take()) {
      const retryAfterS = Math.max(1, Math.ceil(budget.msUntilNext() / 1000))
      log({
        level: 'warn',
        event: 'budget_exhausted',
        message: 'SMC call budget spent; callers told to retry',
        target: target.key,
        retryAfterS,
      })
      throw new RelayError(
        429,
        'ERR_BUDGET_EXHAUSTED',
        `The relay's SMC budget of ${config.budgetPerMinute} calls a minute is spent; retry later`,
        {
          headers: { 'Retry-After': String(retryAfterS) },
        },
      )
    }
    const started = Date.now()
    const detail = { target: target.key, rows: rows.length, callers: slices.length }
    const smc = await callSmc(config, target, JSON.stringify(rows)).catch((error: RelayError) => {
      if (error instanceof SmcRateLimitedError) budget.pause(error.retryAfterS * 1000)
      log({
        level: 'warn',
        event: 'smc_failed',
        message: error.message,
        code: error.code,
        status: error.status,
        ms: Date.now() - started,
        ...detail,
      })
      throw error
    })
    log({
      level: 'info',
      event: 'forwarded',
      message: 'SMC call made',
      status: smc.status,
      ms: Date.now() - started,
      ...detail,
    })
    const text = redact.text(smc.text)
    const split = smc.status < 300 ? splitResult(parse(text), slices) : undefined
    if (split)
      return split.map((model) => ({
        status: smc.status,
        contentType: 'application/json; charset=utf-8',
        body: JSON.stringify(model),
      }))
    // Not a per-row result (e.g. SMC's 404 for a missing segment): every caller gets SMC's answer.
    return slices.map(() => ({ status: smc.status, contentType: smc.contentType, body: text }))
  }

  const coalescer = createCoalescer(
    config.coalesceWindowMs,
    config.maxRows,
    config.maxBytes,
    sendMerged,
  )

  return async function relay(request, client = {}) {
    const url = new URL(request.url)
    let cors: CorsDecision = { headers: {} }
    try {
      cors = corsPolicy(request, url, config.allowedOrigins)
      if (request.method === 'OPTIONS') return preflightResponse(request, cors)
      const waitMs = clients.hit(clientAddress(request, client) ?? 'unknown')
      if (waitMs > 0) {
        throw new RelayError(
          429,
          'ERR_CLIENT_RATE_LIMITED',
          `More than ${config.rateLimitPerClient} requests a minute from this client`,
          {
            headers: { 'Retry-After': String(Math.ceil(waitMs / 1000)) },
          },
        )
      }
      if (request.method === 'GET' && url.pathname === '/status')
        return jsonResponse(200, { status: 'ok' }, cors.headers)
      const target = parseTarget(request.method, url, client.rawTarget, config)
      const rows = await readRows(request, target.arity, config.maxRows, config.maxBytes)
      return answerResponse(await coalescer.submit(target, rows), cors.headers)
    } catch (error) {
      if (!(error instanceof RelayError)) {
        log({ level: 'error', event: 'bug', message: String(error) })
        return jsonResponse(
          500,
          new RelayError(500, 'ERR_INTERNAL', 'The relay failed unexpectedly'),
          cors.headers,
        )
      }
      if (error.status < 500 && error.status !== 429) {
        log({
          level: 'warn',
          event: 'rejected',
          message: error.message,
          code: error.code,
          status: error.status,
          method: request.method,
          path: url.pathname.slice(0, MAX_LOGGED_PATH),
        })
      }
      return jsonResponse(error.status, error, { ...error.headers, ...cors.headers })
    }
  }

  function clientAddress(request: Request, client: ClientInfo): string | undefined {
    if (!config.clientAddressHeader) return client.address
    // A proxy appends the address it saw; earlier entries were written by the client and can lie.
    return (
      request.headers.get(config.clientAddressHeader)?.split(',').pop()?.trim() || client.address
    )
  }
}

const answerResponse = (answer: Answer, headers: Readonly<Record<string, string>>): Response =>
  new Response(answer.body, {
    status: answer.status,
    headers: { 'Content-Type': answer.contentType, 'Cache-Control': 'no-store', ...headers },
  })

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
