import { aggregateLog } from './aggregateLog.js'
import type { RelayLogEntry, RelayOptions } from './config/RelayOptions.js'
import { RESOLVED, type ResolvedRelayOptions } from './config/ResolvedRelayOptions.js'
import { resolveRelayOptions } from './config/resolveRelayOptions.js'
import { createRedactor } from './createRedactor.js'
import { entryFor } from './entryFor.js'
import { clientKey } from './gate/clientKey.js'
import { corsPolicy, preflightResponse, type CorsDecision } from './gate/corsPolicy.js'
import { identityCheck } from './gate/identityCheck.js'
import { parseTarget } from './gate/parseTarget.js'
import { CLIENT_ABORTED, createBodyMemory, readRows } from './gate/readRows.js'
import { budgetExhausted } from './limits/budgetExhausted.js'
import { createSharedLimits } from './limits/createSharedLimits.js'
import { JSON_HEADERS, jsonResponse, RelayError } from './RelayError.js'
import { createCoalescer, type Answer } from './smcCalls/createCoalescer.js'
import { createForwarder } from './smcCalls/createForwarder.js'
import { errorAnswer } from './smcCalls/errorAnswer.js'

/** What a runtime adapter knows about a request beyond the `Request` itself. */
export interface ClientInfo {
  /**
   * The address of the peer, for the per-client rate limit: an IP address (IPv6 counted by its
   * /64); any other value, or none, counts as one client, `unknown`.
   */
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
 * its own credentials, and answers each caller with its own SMC result, never better than SMC's
 * verdict (docs/design.md#verdicts). Throws {@link RelayConfigError} naming every bad option;
 * options the relay resolved itself (startRelayServer's) are taken as they are.
 */
export function createRelay(options: RelayOptions | ResolvedRelayOptions): Relay {
  const config = RESOLVED in options ? options : resolveRelayOptions(options)
  const redact = createRedactor(config.secrets)
  const write = aggregateLog(config.log, config.logIntervalMs)
  const log = (entry: RelayLogEntry): void => write(redact.value(entry))
  // Not through the aggregation: each change of the store's state is a line of its own (at most
  // one a second), never folded into a count of repeats.
  const limits = createSharedLimits(config, (entry) => config.log(redact.value(entry)))
  const { metrics } = config
  const memory = createBodyMemory(config.maxBufferedBytes)
  const checkIdentity = config.identitySecrets.length
    ? identityCheck(config.identitySecrets, config.identityMaxLifetimeS)
    : undefined
  const forwarder = createForwarder(config, limits, log, redact)
  const coalescer = createCoalescer(
    {
      shared: config.coalesce,
      windowMs: config.coalesceWindowMs,
      maxWaitMs: config.maxCoalesceWaitMs,
      maxRows: config.maxRows,
      maxBytes: config.maxBytes,
    },
    limits.take,
    forwarder.send,
    (target, waitMs) => {
      const error = budgetExhausted(config.budgetPerMinute, waitMs)
      log(entryFor(error, { target: target.key }))
      return errorAnswer(error)
    },
  )
  const bodyLimits = {
    maxRows: config.maxRows,
    maxBytes: config.maxBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    memory,
  }

  return async function relay(request, info = {}) {
    const url = new URL(request.url)
    const client = clientKey(request.headers, info.address, config)
    let cors: CorsDecision = { headers: {} }
    let held = 0
    let rowCount = 0
    try {
      cors = corsPolicy(request, url, config.allowsOrigin)
      // Probes come from load balancers, whatever the site's traffic: never limited.
      if (request.method === 'GET' && url.pathname === `${config.basePath}/status`)
        return jsonResponse(200, { status: 'ok' }, cors.headers)
      if (request.method === 'GET' && url.pathname === `${config.basePath}/ready`) {
        return (await limits.ready())
          ? jsonResponse(200, { status: 'ready' }, cors.headers)
          : jsonResponse(503, { status: 'shared store unreachable' }, cors.headers)
      }
      const waitMs = await limits.hit(client)
      if (waitMs > 0) {
        throw new RelayError(
          429,
          'ERR_CLIENT_RATE_LIMITED',
          `This client made more than ${config.rateLimitPerClient} requests, or cost more than ${config.clientCallsPerMinute} SMC calls, this minute`,
          {
            headers: { 'Retry-After': String(Math.ceil(waitMs / 1000)) },
          },
        )
      }
      // A preflight costs as much as any request, so it is counted above like one.
      if (request.method === 'OPTIONS') return preflightResponse(request, cors)
      const target = parseTarget(request.method, url, info.rawTarget, config)
      const rows = await readRows(request, target.arity, bodyLimits)
      held = rows.bytes
      rowCount = rows.rows.length
      if (target.segmentChange) await checkIdentity?.(target.identityToken, rows.rows)
      metrics?.accepted(rowCount)
      // A client SMC refused alone shares no call: its batch has a key of its own. The key is no
      // target's, so no log line names the client's address as one.
      const batchKey = forwarder.callsAlone(client) ? `${target.key} ${client}` : target.key
      const answer = await coalescer.submit(target, rows, client, batchKey)
      if (answer.code) metrics?.refused(answer.code, rowCount)
      return answerResponse(answer, cors.headers)
    } catch (error) {
      if (!(error instanceof RelayError)) {
        log({ level: 'error', event: 'bug', message: String(error) })
        metrics?.refused('ERR_INTERNAL', rowCount)
        const bug = new RelayError(500, 'ERR_INTERNAL', 'The relay failed unexpectedly')
        return answerResponse(errorAnswer(bug), cors.headers)
      }
      metrics?.refused(error.code, rowCount)
      const where = { method: request.method, path: url.pathname.slice(0, MAX_LOGGED_PATH) }
      if (error.code === CLIENT_ABORTED) {
        log({ level: 'info', event: 'aborted', message: error.message, ...where })
      } else if (error.status < 500 && error.status !== 429) {
        log({ ...entryFor(error, where), event: 'rejected' })
      } else if (error.code === 'ERR_CLIENT_RATE_LIMITED' || error.code === 'ERR_RELAY_BUSY') {
        log(entryFor(error, where))
      }
      return answerResponse(errorAnswer(error), cors.headers)
    } finally {
      memory.give(held)
    }
  }
}

/** A caller's answer as a response, with the CORS headers of its request. */
const answerResponse = (answer: Answer, headers: Readonly<Record<string, string>>): Response =>
  new Response(answer.body, {
    status: answer.status,
    headers: { ...JSON_HEADERS, ...answer.headers, ...headers },
  })
