// The relay's promise under a mixed fault schedule (docs/design.md#verdicts): a few hundred
// callers send their rows through one relay, as the plugin's transport does, to an SMC stand-in
// that draws a fault for every call from a seeded generator. At the end every good row is stored,
// no good row was given up, and no row was counted as delivered before SMC had stored it.
// NOLOSS_SEED=n replays another schedule.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { seededRandom } from '../smc-simulator/createSmcSimulator.mjs'
import { verdictOf } from './browserVerdict.mjs'
import { eventRow, useHarness } from './harness.mjs'

const h = useHarness()

const SEED = Number(process.env.NOLOSS_SEED ?? 20240501)
const CALLERS = 300
/** Tries of one batch before the test calls it lost; the transport's own bound is `maxAttempts`. */
const MAX_TRIES = 40
/** The faults, each drawn per SMC call with this probability: every fault the relay must survive. */
const RATES = {
  slow: 0.02,
  dropBefore: 0.04,
  dropAfter: 0.04,
  unavailable: 0.05,
  rateLimited: 0.01,
  notFound: 0.04,
  serviceUnavailable: 0.04,
  internalServerError: 0.04,
  refuseWhole: 0.1,
  tooLarge: 0.05,
  unlisted: 0.08,
}
/** EVENT_TYPE is 20 characters at most in the simulator's events list. */
const TOO_LONG = 'x'.repeat(21)

describe('relay: no loss under faults', () => {
  test(`seed ${SEED}: ${CALLERS} callers, every good row stored, none counted as delivered unstored`, async () => {
    const random = seededRandom(SEED)
    h.sim.setFaults({
      // `slow` outlasts the relay's timeout: SMC stores what the relay has given up on.
      chaos: { seed: SEED, rates: RATES, slowMs: 1500, maxCallRows: 12 },
    })
    const relay = h.makeRelay({
      coalesceWindowMs: 10,
      timeoutMs: 1000,
      budgetPerMinute: 1_000_000,
      rateLimitPerClient: 0,
      // Merged calls of a few callers each: many calls, so many draws of the schedule.
      maxRows: 30,
    })

    // Each caller: 1 to 6 rows; one caller in ten has a bad row among them.
    const callers = Array.from({ length: CALLERS }, (_, c) => {
      const count = 1 + Math.floor(random() * 6)
      const bad = random() < 0.1 ? Math.floor(random() * count) : -1
      return Array.from({ length: count }, (_, r) =>
        eventRow(`c${c}-r${r}`, r === bad ? { EVENT_TYPE: TOO_LONG } : {}),
      )
    })
    const isGood = (row) => row[1] !== TOO_LONG
    const storedIds = () =>
      new Set(h.sim.state().lists.segment_events.records.map((r) => r.fields.EVENT_ID))
    const violations = []
    const counts = { requests: 0, retried: 0, split: 0, delivered: 0, refused: 0 }

    /** Sends a caller's rows until each is delivered or refused, as the transport does. */
    const run = async (rows, c) => {
      await sleep(random() * 200)
      const batches = [{ rows, tries: 0 }]
      while (batches.length) {
        const batch = batches.shift()
        if (++batch.tries > MAX_TRIES) {
          violations.push(`caller ${c} gave up on ${batch.rows.map((row) => row[0])}`)
          continue
        }
        counts.requests++
        const sent = await h.sendEvents(batch.rows, { via: relay })
        const verdict = verdictOf(sent)
        const listed = batch.rows.filter((_, i) => verdict.refused && i in verdict.refused)
        const others = batch.rows.filter((row) => !listed.includes(row))
        for (const row of listed) refuse(row, sent)
        if (verdict.retry) {
          if (!others.length) continue
          counts.retried++
          // Retry-After as given for a 429, since the relay then holds back for that long; other
          // waits on a scale of 20 ms to the second: the schedule, not the clock, is tested.
          const wait = Number(sent.headers.get('retry-after') ?? 1)
          await sleep(
            (sent.status === 429 ? wait * 1000 : Math.min(200, wait * 20)) + random() * 20,
          )
          batches.push({ rows: others, tries: batch.tries })
        } else if (verdict.refused) {
          const stored = storedIds()
          for (const row of others) {
            counts.delivered++
            if (!stored.has(row[0]))
              violations.push(`${row[0]} delivered, not stored: ${sent.text}`)
          }
        } else if (batch.rows.length > 1) {
          // Refused as a whole: the transport sends the halves apart until the bad row is alone.
          counts.split++
          const half = Math.ceil(batch.rows.length / 2)
          batches.push({ rows: batch.rows.slice(0, half), tries: 0 })
          batches.push({ rows: batch.rows.slice(half), tries: 0 })
        } else refuse(batch.rows[0], sent)
      }
    }
    const refuse = (row, sent) => {
      counts.refused++
      if (isGood(row)) violations.push(`good row ${row[0]} refused: ${sent.status} ${sent.text}`)
    }

    await Promise.all(callers.map(run))

    const stored = storedIds()
    const rows = callers.flat()
    const lost = rows.filter((row) => isGood(row) && !stored.has(row[0]))
    const unstored = violations.filter((v) => / delivered, not stored/.test(v))
    assert.deepEqual(
      [lost.length, unstored.length, violations.length],
      [0, 0, 0],
      `${lost.length} of ${rows.filter(isGood).length} good rows lost, ${unstored.length} counted as delivered unstored; ${violations.length} violations, first: ${violations.slice(0, 3).join('\n')}`,
    )
    assert.ok(rows.filter((row) => !isGood(row)).every((row) => !stored.has(row[0])))
    assert.equal(counts.refused, rows.filter((row) => !isGood(row)).length, 'each bad row refused')
    // The schedule did bite: retries, isolation, unconfirmed rows, configuration faults.
    assert.ok(counts.retried > 50, JSON.stringify(counts))
    for (const event of ['isolated', 'smc_unconfirmed', 'misconfigured', 'smc_failed']) {
      assert.ok(
        h.logs.some((entry) => entry.event === event),
        `${event} in the log: ${JSON.stringify(counts)}`,
      )
    }
  })
})
