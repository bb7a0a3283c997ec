import { smcVerdict } from '../smc/smcVerdict.js'
import { aggregateLog } from './aggregateLog.js'
import { clientKey } from './gate/clientKey.js'
import {
  callSmc,
  MISCONFIGURED,
  misconfigured,
  SmcRateLimitedError,
  unavailable,
} from './smcCalls/callSmc.js'
import { createClientLimiter, MILLI_CALLS, WINDOW_MS } from './limits/createClientLimiter.js'
import {
  createCoalescer,
  type Answer,
  type CallerSlice,
  type SendMerged,
} from './smcCalls/createCoalescer.js'
import { createRedactor } from './createRedactor.js'
import { createSharedLimits } from './limits/createSharedLimits.js'
import { createSlots } from './limits/createSlots.js'
import { corsPolicy, preflightResponse, type CorsDecision } from './gate/corsPolicy.js'
import { identityCheck } from './gate/identityCheck.js'
import { parseTarget, type RelayTarget } from './gate/parseTarget.js'
import { CLIENT_ABORTED, createBodyMemory, readRows } from './gate/readRows.js'
import { JSON_HEADERS, jsonResponse, RelayError } from './RelayError.js'
import type { RelayLogEntry, RelayOptions } from './config/RelayOptions.js'
import { RESOLVED, type ResolvedRelayOptions } from './config/ResolvedRelayOptions.js'
import { resolveRelayOptions } from './config/resolveRelayOptions.js'
import { splitResult, type CallerResult } from './smcCalls/splitResult.js'

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

/**
 * The share of the budget that re-sends isolating refused callers may take: a flood of rows SMC
 * refuses whole then costs at most this much on top of the calls that carried them.
 */
const ISOLATION_SHARE = 0.2

/** The one key the re-sends are counted under. */
const RESENDS = 'resends'

/** What isolating the refused callers of one merged call spent, and whom SMC refused alone. */
interface Isolation {
  /** SMC calls made to isolate them. */
  resends: number
  /** The clients of the callers SMC refused alone. */
  readonly refused: string[]
}

/** Longest path shown in a log line; paths come from clients and may be anything. */
const MAX_LOGGED_PATH = 200
/** Longest part of an SMC answer kept in a log line: enough for its message and first errors. */
const MAX_LOGGED_ANSWER = 1000

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
  const slots = createSlots(config.maxSmcCalls)
  const memory = createBodyMemory(config.maxBufferedBytes)
  // Their rows go in calls of their own, so they cannot have SMC refuse others' rows with theirs.
  const refusedClients = recentClients(WINDOW_MS)
  // Counted in the minute's window like a client's requests, so a whole bisection may run at once.
  const resends = createClientLimiter(
    Math.max(1, Math.floor((config.budgetPerMinute / config.instances) * ISOLATION_SHARE)),
    0,
  )
  const checkIdentity = config.identitySecrets.length
    ? identityCheck(config.identitySecrets, config.identityMaxLifetimeS)
    : undefined

  const budgetExhausted = (waitMs: number): RelayError =>
    new RelayError(
      429,
      'ERR_BUDGET_EXHAUSTED',
      `The relay's SMC budget of ${config.budgetPerMinute} calls a minute is spent; retry later`,
      { headers: { 'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))) } },
    )

  /**
   * One SMC call, once a slot is free and the budget allows (`paid`: the coalescer took it from
   * the budget already); what only the relay acts on is thrown. The callers' clients pay for it
   * in equal parts, or, for a re-send, `isolation` counts it for the refused callers to pay.
   */
  const call = async (
    target: RelayTarget,
    rows: readonly (readonly string[])[],
    slices: readonly CallerSlice[],
    paid: boolean,
    isolation: Isolation | undefined,
  ) => {
    const started = Date.now()
    const detail = { target: target.key, rows: rows.length, callers: slices.length }
    let called = false
    try {
      if (!paid) {
        const { waitMs, taken } = await limits.take(0)
        if (!taken) throw budgetExhausted(waitMs)
      }
      if (!(await slots.acquire(config.timeoutMs))) {
        throw unavailable(
          'ERR_RELAY_BUSY',
          `${config.maxSmcCalls} SMC calls were in flight for ${config.timeoutMs} ms; retry later`,
        )
      }
      try {
        called = true
        if (isolation) isolation.resends++
        else {
          const share = Math.ceil(MILLI_CALLS / slices.length)
          for (const slice of slices) void limits.charge(slice.client, share)
        }
        const smc = await callSmc(config, target, JSON.stringify(rows))
        metrics?.smcCall(String(smc.status), rows.length, Date.now() - started)
        return { smc, started, detail }
      } finally {
        slots.release()
      }
    } catch (error) {
      if (error instanceof RelayError) {
        const rateLimited = error instanceof SmcRateLimitedError
        if (called)
          metrics?.smcCall(rateLimited ? '429' : error.code, rows.length, Date.now() - started)
        if (rateLimited) await limits.pause(error.retryAfterS * 1000)
        log(entryFor(error, { ms: Date.now() - started, ...detail }))
      }
      throw error
    }
  }

  /**
   * Makes the SMC call of `rows` (the callers' `slices` of them) and answers each caller from
   * SMC's verdict (docs/design.md#verdicts): retryable for all; refused as a whole, the callers
   * split in halves and each half re-sent (`isolation`, see {@link isolate}) until only callers
   * SMC refuses alone are refused; or row by row, each caller with its own counts and invalid
   * rows, retryably when SMC did not vouch for its others.
   */
  const forward = async (
    target: RelayTarget,
    rows: readonly (readonly string[])[],
    slices: readonly CallerSlice[],
    paid: boolean,
    isolation?: Isolation,
  ): Promise<Answer[]> => {
    let made: Awaited<ReturnType<typeof call>>
    try {
      made = await call(target, rows, slices, paid, isolation)
    } catch (error) {
      if (!(error instanceof RelayError)) throw error
      return slices.map(() => errorAnswer(error))
    }
    const { smc, started, detail } = made
    const text = redact.text(smc.text)
    const verdict = smcVerdict(smc.status, text, rows.length)
    const { refused: listed, retry } = verdict
    const resultCode = resultCodeOf(text)
    // What SMC said, for messages: `400 ValidationFailed`, `404`.
    const said = `${smc.status}${resultCode ? ` ${resultCode}` : ''}`
    log({
      level: 'info',
      event: 'forwarded',
      message: 'SMC call made',
      status: smc.status,
      resultCode,
      ms: Date.now() - started,
      ...detail,
    })

    if (retry && !listed) {
      const error = verdict.notFound
        ? misconfigured(
            'ERR_SMC_NOT_FOUND',
            `SMC does not know the ${target.names} (${said}); the relay's operator must create it in SMC or fix the relay's configuration`,
          )
        : unavailable('ERR_SMC_UNAVAILABLE', `SMC answered ${said}; retry later`, smc.retryAfterS)
      log(entryFor(error, detail))
      return slices.map(() => errorAnswer(error))
    }

    if (!listed) {
      if (slices.length > 1) {
        log({
          level: 'warn',
          event: 'isolated',
          message: `SMC refused a merged call as a whole (${said}); its callers are sent again by halves`,
          ...detail,
        })
        return isolate(target, rows, slices, isolation)
      }
      isolation?.refused.push(slices[0]?.client ?? '')
      log({
        level: 'warn',
        event: 'smc_refused',
        message: `SMC refused a request's rows as a whole (${said}); its caller drops them`,
        status: smc.status,
        answer: text.slice(0, MAX_LOGGED_ANSWER),
        ...detail,
      })
      // SMC's status is kept, so the caller reads the refusal as SMC meant it; its body is not:
      // it may be any type, and its message may tell what SMC holds.
      const refused: CallerResult = {
        result_code: resultCode ?? 'Failed',
        number_of_failed_records: rows.length,
        invalid_records: [],
      }
      return [
        resultCode
          ? { status: smc.status, body: JSON.stringify(refused) }
          : errorAnswer(
              new RelayError(
                smc.status,
                'ERR_SMC_REFUSED',
                `SMC refused the rows (${said}) without a result`,
              ),
            ),
      ]
    }

    const models = splitResult(parse(text), slices, listed)
    const unconfirmed = unavailable(
      'ERR_SMC_UNCONFIRMED',
      'SMC did not confirm that every row of this request was stored; send them again',
      smc.retryAfterS,
    )
    let resent = 0
    const answers = slices.map((slice, i): Answer => {
      const model = models?.[i]
      const refusedRows = Object.keys(listed).filter(
        (index) => +index >= slice.offset && +index < slice.offset + slice.count,
      ).length
      // Only rows SMC listed or vouched for are answered; for any other, the caller sends again.
      if (model && !(retry && refusedRows < slice.count)) {
        return { status: smc.status, body: JSON.stringify(model) }
      }
      resent++
      return errorAnswer(unconfirmed)
    })
    if (resent) {
      log({
        ...entryFor(unconfirmed, detail),
        message: `SMC did not vouch for every row it did not list (${said}); ${resent} caller(s) told to send again`,
      })
    }
    return answers
  }

  /**
   * Finds the callers SMC refuses among those of a call it refused as a whole: each half of them
   * sent again, a half refused again split again, so one bad caller among N costs about 2·log₂N
   * re-sends. A re-send is made only when the re-sends' share of the budget and the budget allow
   * it now; otherwise its callers are told to send again. At the top (`outer` undefined) the
   * re-sends are paid by the clients of the callers SMC refused alone, or, if none was, by all;
   * and the refused clients' next requests, for a minute or two, go in calls of their own.
   */
  const isolate = async (
    target: RelayTarget,
    rows: readonly (readonly string[])[],
    slices: readonly CallerSlice[],
    outer: Isolation | undefined,
  ): Promise<Answer[]> => {
    const isolation = outer ?? { resends: 0, refused: [] }
    const middle = Math.ceil(slices.length / 2)
    const halves = [slices.slice(0, middle), slices.slice(middle)].map(async (half) => {
      if (resends.hit(RESENDS) > 0) return half.map(() => errorAnswer(REFUSED_MERGED))
      const first = half[0]?.offset ?? 0
      const last = half[half.length - 1]
      const own = rows.slice(first, (last?.offset ?? 0) + (last?.count ?? 0))
      const moved = half.map((slice) => ({ ...slice, offset: slice.offset - first }))
      return forward(target, own, moved, false, isolation)
    })
    const answers = (await Promise.all(halves)).flat()
    if (!outer && isolation.resends) {
      const payers = isolation.refused.length
        ? isolation.refused
        : slices.map((slice) => slice.client)
      const share = Math.ceil((isolation.resends * MILLI_CALLS) / payers.length)
      for (const client of payers) void limits.charge(client, share)
      for (const client of isolation.refused) refusedClients.add(client)
    }
    return answers
  }

  const sendMerged: SendMerged = (target, rows, slices) => forward(target, rows, slices, true)

  const coalescer = createCoalescer(
    {
      shared: config.coalesce,
      windowMs: config.coalesceWindowMs,
      maxWaitMs: config.maxCoalesceWaitMs,
      maxRows: config.maxRows,
      maxBytes: config.maxBytes,
    },
    limits.take,
    sendMerged,
    (target, waitMs) => {
      const error = budgetExhausted(waitMs)
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
      const alone = refusedClients.has(client)
      const answer = await coalescer.submit(
        alone ? { ...target, key: `${target.key} ${client}` } : target,
        rows,
        client,
      )
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

/** Clients remembered for one to two windows of `windowMs`, two sets at a time at most. */
function recentClients(windowMs: number): {
  add(client: string): void
  has(client: string): boolean
} {
  let current = new Set<string>()
  let previous = new Set<string>()
  let turnsAt = Date.now() + windowMs
  const turn = (): void => {
    if (Date.now() < turnsAt) return
    previous = Date.now() < turnsAt + windowMs ? current : new Set()
    current = new Set()
    turnsAt = Date.now() + windowMs
  }
  return {
    add(client) {
      turn()
      current.add(client)
    },
    has(client) {
      turn()
      return current.has(client) || previous.has(client)
    },
  }
}

/** The log entry of an answer the relay made itself: configuration faults are errors. */
function entryFor(error: RelayError, detail: Record<string, unknown>): RelayLogEntry {
  const misconfiguration = MISCONFIGURED.has(error.code)
  return {
    level: misconfiguration ? 'error' : 'warn',
    event: misconfiguration ? 'misconfigured' : (EVENTS[error.code] ?? 'smc_failed'),
    message: error.message,
    code: error.code,
    status: error.status,
    ...detail,
  }
}

/** Log events of the relay's own refusals and limits, by error code; the rest are SMC's failures. */
const EVENTS: Record<string, string> = {
  ERR_BUDGET_EXHAUSTED: 'budget_exhausted',
  ERR_CLIENT_RATE_LIMITED: 'client_rate_limited',
  ERR_RELAY_BUSY: 'relay_busy',
  ERR_SMC_UNCONFIRMED: 'smc_unconfirmed',
}

/** The answer to callers of a refused merged call that the relay could not afford to isolate now. */
const REFUSED_MERGED = unavailable(
  'ERR_SMC_REFUSED_MERGED',
  "SMC refused a call merging this request's rows with others', and the relay cannot isolate the refused ones now; send them again",
)

const errorAnswer = (error: RelayError): Answer => ({
  code: error.code,
  status: error.status,
  body: JSON.stringify(error),
  headers: error.headers,
})

const answerResponse = (answer: Answer, headers: Readonly<Record<string, string>>): Response =>
  new Response(answer.body, {
    status: answer.status,
    headers: { ...JSON_HEADERS, ...answer.headers, ...headers },
  })

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** SMC's `result_code`, for logs and messages; `undefined` when the body has none. */
function resultCodeOf(text: string): string | undefined {
  const code = (parse(text) as { result_code?: unknown } | undefined)?.result_code
  return typeof code === 'string' ? code.slice(0, 40) : undefined
}
