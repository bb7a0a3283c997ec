// Each caller's answer comes from SMC's verdict and counts (docs/design.md#verdicts), never better
// than them: a browser counts a row as delivered only once SMC said it stored it.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { deliveredRows } from './browserVerdict.mjs'
import { assertRefused, eventRow, EVENTS_QUERY, ORGANIZATION, useHarness } from './harness.mjs'

const h = useHarness()

/** EVENT_TYPE is 20 characters at most in the simulator's events list. */
const TOO_LONG = 'x'.repeat(21)

const storedIds = () =>
  new Set(h.sim.state().lists.segment_events.records.map((r) => r.fields.EVENT_ID))
const bodies = (callers, rows, tag) =>
  Array.from({ length: callers }, (_, c) =>
    Array.from({ length: rows }, (_, r) => eventRow(`${tag}-${c}-${r}`)),
  )

/** Every row a browser would count as delivered is stored. */
function assertDeliveredAreStored(answers, sentBodies) {
  const stored = storedIds()
  answers.forEach((answer, c) => {
    for (const row of deliveredRows(answer, sentBodies[c])) {
      assert.ok(stored.has(row[0]), `${row[0]} counted as delivered, not stored: ${answer.text}`)
    }
  })
}

describe("relay verdicts: SMC's word, per caller", () => {
  for (const [resultCode, status, code] of [
    ['ServiceUnavailable', 503, 'ERR_SMC_UNAVAILABLE'],
    ['InternalServerError', 503, 'ERR_SMC_UNAVAILABLE'],
    ['NotFound', 502, 'ERR_SMC_NOT_FOUND'],
  ]) {
    test(`HTTP 200 ${resultCode}, 20 callers × 5 rows: each answered ${status} with Retry-After, none delivered`, async () => {
      h.sim.setFaults({ resultCode })
      const relay = h.makeRelay({ coalesceWindowMs: 20 })
      const sent = bodies(20, 5, resultCode)
      const answers = await Promise.all(sent.map((rows) => h.sendEvents(rows, { via: relay })))
      assert.equal(h.sim.calls, 1, 'one merged call')
      for (const answer of answers) {
        assertRefused(answer, status, code)
        assert.ok(Number(answer.headers.get('retry-after')) >= 1)
      }
      assertDeliveredAreStored(answers, sent)
      assert.equal(storedIds().size, 0)
    })
  }

  for (const resultCode of ['Failed', 'ValidationFailed']) {
    test(`HTTP 200 ${resultCode} listing no row: never delivered; each caller, isolated by halves, gets SMC's own refusal`, async () => {
      h.sim.setFaults({ resultCode })
      const relay = h.makeRelay({ coalesceWindowMs: 20 })
      const sent = bodies(20, 5, resultCode)
      const answers = await Promise.all(sent.map((rows) => h.sendEvents(rows, { via: relay })))
      answers.forEach((answer, c) => {
        assert.equal(answer.body.result_code, resultCode, answer.text)
        assert.deepEqual(deliveredRows(answer, sent[c]), [])
      })
      assert.equal(storedIds().size, 0)
      // Every half refused again, down to each caller: 2 × 20 − 1 calls, within the re-sends' cap.
      assert.equal(h.sim.calls, 39, 'the merged call, then halves down to each caller')
    })
  }

  test('more failures counted than listed: callers with rows SMC did not list are told to retry', async () => {
    // The simulator stores neither the bad row (listed) nor the first two good ones (counted only).
    h.sim.setFaults({ unlisted: 2 })
    const relay = h.makeRelay({ coalesceWindowMs: 20 })
    const sent = [[eventRow('bad-0', { EVENT_TYPE: TOO_LONG })], ...bodies(4, 2, 'good')]
    const answers = await Promise.all(sent.map((rows) => h.sendEvents(rows, { via: relay })))
    assert.equal(h.sim.calls, 1)
    const [bad, ...good] = answers
    assert.equal(bad.status, 200, bad.text)
    assert.deepEqual(
      bad.body.invalid_records.map((r) => r.record_index),
      [0],
    )
    for (const answer of good) {
      assertRefused(answer, 503, 'ERR_SMC_UNCONFIRMED')
      assert.ok(Number(answer.headers.get('retry-after')) >= 1)
    }
    assertDeliveredAreStored(answers, sent)
  })

  test('counts that match the list: callers are answered row by row, as before', async () => {
    const relay = h.makeRelay({ coalesceWindowMs: 20 })
    const sent = [
      [eventRow('p-0'), eventRow('p-1', { EVENT_TYPE: TOO_LONG })],
      ...bodies(3, 2, 'q'),
    ]
    const answers = await Promise.all(sent.map((rows) => h.sendEvents(rows, { via: relay })))
    assert.deepEqual(
      answers.map((a) => a.body.result_code),
      ['PartiallySucceeded', 'Succeeded', 'Succeeded', 'Succeeded'],
    )
    assertDeliveredAreStored(answers, sent)
    assert.equal(storedIds().size, 7)
  })

  test('a misspelt events list: 502 with Retry-After, so browsers keep the rows; one error line names the list', async () => {
    h.logs.length = 0
    const relay = h.makeRelay({ eventsList: 'segment_evnts' })
    const path = `/organizations/${ORGANIZATION}/lists/segment_evnts/data/load?${EVENTS_QUERY}`
    for (let i = 0; i < 3; i++) {
      const answer = await h.send(path, { body: [eventRow(`m-${i}`)], via: relay })
      assertRefused(answer, 502, 'ERR_SMC_NOT_FOUND')
      assert.equal(answer.headers.get('retry-after'), '60')
    }
    const errors = h.logs.filter((entry) => entry.level === 'error')
    assert.equal(errors.length, 1, JSON.stringify(errors))
    assert.match(errors[0].message, /segment_evnts/)
  })

  test('an allowed static segment SMC lacks: 502 with Retry-After; the error line names it', async () => {
    h.logs.length = 0
    const relay = h.makeRelay({ segments: ['USERS_SEGMENT/Missing:MAIL'] })
    const path = `/organizations/${ORGANIZATION}/lists/USERS_SEGMENT/segments/Missing/data/load?keyFields=MAIL&fields=MAIL`
    const answer = await h.send(path, { body: [['jane@example.com']], via: relay })
    assertRefused(answer, 502, 'ERR_SMC_NOT_FOUND')
    assert.ok(
      h.logs.some((entry) => entry.level === 'error' && /"Missing"/.test(entry.message)),
      JSON.stringify(h.logs),
    )
  })
})
