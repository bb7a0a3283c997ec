import { smcVerdictOfBody } from '../../smc/smcVerdict.js'
import type { RelayLogEntry } from '../config/RelayOptions.js'
import type { ResolvedRelayOptions } from '../config/ResolvedRelayOptions.js'
import type { Redactor } from '../createRedactor.js'
import { entryFor } from '../entryFor.js'
import type { RelayTarget } from '../gate/parseTarget.js'
import { createClientLimiter, MILLI_CALLS, WINDOW_MS } from '../limits/createClientLimiter.js'
import type { SharedLimits } from '../limits/createSharedLimits.js'
import { recentClients } from '../limits/recentClients.js'
import { misconfigured, RelayError, unavailable } from '../RelayError.js'
import type { Answer, CallerSlice, SendMerged } from './createCoalescer.js'
import { createSmcCall, type Isolation, type MadeCall } from './createSmcCall.js'
import { errorAnswer } from './errorAnswer.js'
import { splitResult, type CallerResult } from './splitResult.js'

/** Sends merged calls to SMC and answers each of their callers from SMC's verdict. */
export interface Forwarder {
  /** Makes a merged call, already paid for, and answers each of its callers. */
  readonly send: SendMerged
  /** Whether `client`'s rows go in calls of their own: SMC lately refused them alone. */
  callsAlone(client: string): boolean
}

/**
 * The share of the budget that re-sends isolating refused callers may take: a flood of rows SMC
 * refuses whole then costs at most this much on top of the calls that carried them.
 */
const ISOLATION_SHARE = 0.2

/** The one key the re-sends are counted under. */
const RESENDS = 'resends'

/** Longest part of an SMC answer kept in a log line: enough for its message and first errors. */
const MAX_LOGGED_ANSWER = 1000

/** The answer to callers of a refused merged call that the relay could not afford to isolate now. */
const REFUSED_MERGED = unavailable(
  'ERR_SMC_REFUSED_MERGED',
  "SMC refused a call merging this request's rows with others', and the relay cannot isolate the refused ones now; send them again",
)

/**
 * Answers each caller of a merged call from SMC's verdict on it (docs/design.md#verdicts), never
 * better than it, and with nothing of the other callers' rows.
 */
export function createForwarder(
  config: ResolvedRelayOptions,
  limits: SharedLimits,
  log: (entry: RelayLogEntry) => void,
  redact: Redactor,
): Forwarder {
  const call = createSmcCall(config, limits, log)
  // Their rows go in calls of their own, so they cannot have SMC refuse others' rows with theirs.
  const refusedClients = recentClients(WINDOW_MS)
  // Counted in the minute's window like a client's requests, so a whole bisection may run at once.
  const resends = createClientLimiter(
    Math.max(1, Math.floor((config.budgetPerMinute / config.instances) * ISOLATION_SHARE)),
    0,
  )

  /**
   * Makes the SMC call of `rows` (the callers' `slices` of them) and answers each caller from
   * SMC's verdict: retryable for all; refused as a whole, the callers split in halves and each
   * half re-sent (`isolation`, see {@link isolate}) until only callers SMC refuses alone are
   * refused; or row by row, each caller with its own counts and invalid rows, retryably when SMC
   * did not vouch for its others.
   */
  const forward = async (
    target: RelayTarget,
    rows: readonly (readonly string[])[],
    slices: readonly CallerSlice[],
    paid: boolean,
    isolation?: Isolation,
  ): Promise<Answer[]> => {
    let made: MadeCall
    try {
      made = await call(target, rows, slices, paid, isolation)
    } catch (error) {
      if (!(error instanceof RelayError)) throw error
      return slices.map(() => errorAnswer(error))
    }
    const { smc, started, detail } = made
    // SMC's body is parsed here once, for its verdict, its result code and its split.
    const { text, body } = redact.answer(smc.text)
    const verdict = smcVerdictOfBody(smc.status, body, text, rows.length)
    const { refused: listed, retry } = verdict
    const resultCode = resultCodeOf(body)
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

    const models = splitResult(body, slices, listed)
    const unconfirmed = unavailable(
      'ERR_SMC_UNCONFIRMED',
      'SMC did not confirm that every row of this request was stored; send them again',
      smc.retryAfterS,
    )
    let resent = 0
    const answers = slices.map((slice, i): Answer => {
      const model = models?.[i]
      // Only rows SMC listed or vouched for are answered; for any other, the caller sends again.
      if (model && !(retry && model.number_of_failed_records < slice.count)) {
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

  return {
    send: (target, rows, slices) => forward(target, rows, slices, true),
    callsAlone: (client) => refusedClients.has(client),
  }
}

/** SMC's `result_code`, for logs and messages; `undefined` when the body has none. */
function resultCodeOf(body: unknown): string | undefined {
  const code = (body as { result_code?: unknown } | undefined)?.result_code
  return typeof code === 'string' ? code.slice(0, 40) : undefined
}
