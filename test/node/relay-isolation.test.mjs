// One visitor's bad row never costs another visitor's rows: a merged call SMC refuses as a whole
// is sent again caller by caller, within the budget (docs/design.md#relay-coalescing).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { deliveredRows } from './browserVerdict.mjs'
import { assertRefused, eventRow, useHarness } from './harness.mjs'

const h = useHarness()

/** EVENT_TYPE is 20 characters at most in the simulator's events list. */
const TOO_LONG = 'x'.repeat(21)
const BAD_CALLER = 7

/** 20 callers of 5 rows; the one at BAD_CALLER has one bad row among them. */
const callers = (tag) =>
  Array.from({ length: 20 }, (_, c) =>
    Array.from({ length: 5 }, (_, r) =>
      eventRow(`${tag}-${c}-${r}`, c === BAD_CALLER && r === 2 ? { EVENT_TYPE: TOO_LONG } : {}),
    ),
  )
const storedIds = () =>
  new Set(h.sim.state().lists.segment_events.records.map((r) => r.fields.EVENT_ID))

/** Sends the callers at once through one relay; returns their answers. */
async function sendAll(sent, relayOptions = {}) {
  const relay = h.makeRelay({ coalesceWindowMs: 20, ...relayOptions })
  return Promise.all(sent.map((rows) => h.sendEvents(rows, { via: relay })))
}

describe('relay isolation of a refused merged call', () => {
  for (const [fault, label] of [
    ['400', 'HTTP 400 for one malformed row'],
    ['Failed', 'HTTP 200 Failed listing no record'],
    ['ValidationFailed', 'HTTP 200 ValidationFailed listing no record'],
  ]) {
    test(`${label}: the 19 innocent callers' 95 rows are stored and delivered; only the bad caller is refused`, async () => {
      h.sim.setFaults({ refuseWhole: fault })
      const sent = callers(fault)
      const answers = await sendAll(sent)
      const stored = storedIds()
      answers.forEach((answer, c) => {
        const delivered = deliveredRows(answer, sent[c])
        if (c === BAD_CALLER) {
          assert.deepEqual(delivered, [], answer.text)
          return
        }
        assert.equal(answer.status, 200, `caller ${c}: ${answer.text}`)
        assert.equal(answer.body.result_code, 'Succeeded')
        assert.equal(delivered.length, 5)
        for (const row of delivered) assert.ok(stored.has(row[0]), row[0])
      })
      assert.equal(stored.size, 95)
      // 20 callers halved to the bad one: 10, 5, 3 and 1 of them, each with its other half.
      assert.equal(h.sim.calls, 9, 'the merged call, then two halves at each of four levels')
      assert.ok(h.logs.some((entry) => entry.event === 'isolated'))
    })
  }

  test('a merged call too large for SMC (413): every caller, sent alone, is stored', async () => {
    h.sim.setFaults({ maxCallRows: 10 })
    const sent = callers('large').map((rows) => rows.map((row) => eventRow(row[0])))
    const answers = await sendAll(sent)
    for (const answer of answers) assert.equal(answer.body.result_code, 'Succeeded', answer.text)
    assert.equal(storedIds().size, 100)
  })

  test('a caller alone is not sent again: it gets SMC’s refusal as it is', async () => {
    h.sim.setFaults({ refuseWhole: '400' })
    const [answer] = await sendAll([[eventRow('alone-0', { EVENT_TYPE: TOO_LONG })]])
    assert.equal(answer.status, 400)
    assert.equal(answer.body.result_code, 'ValidationFailed')
    assert.equal(h.sim.calls, 1)
  })

  test('re-sends spend the budget: past it, the callers left are told to retry, and SMC sees no more calls', async () => {
    h.sim.setFaults({ refuseWhole: '400' })
    // 60 calls a minute: a tenth of it, 6 calls, may be spent at once.
    const sent = callers('budget')
    const answers = await sendAll(sent, { budgetPerMinute: 60 })
    assert.equal(h.sim.calls, 6, 'the merged call and 5 re-sends')
    const held = answers.filter((answer) => answer.status === 429)
    assert.ok(held.length > 0)
    // The halves sent in time hold 10 + 5 + 3 or 2 callers; the bad caller is never delivered.
    assert.ok(answers.filter((answer) => answer.status === 200).length >= 15)
    assert.ok([400, 429].includes(answers[BAD_CALLER].status), answers[BAD_CALLER].text)
    assert.equal(
      held.length + answers.filter((answer) => answer.status === 200).length,
      20 - (answers[BAD_CALLER].status === 400 ? 1 : 0),
    )
    for (const answer of held) {
      assertRefused(answer, 429, 'ERR_BUDGET_EXHAUSTED')
      assert.ok(Number(answer.headers.get('retry-after')) >= 1)
    }
    const stored = storedIds()
    answers.forEach((answer, c) => {
      for (const row of deliveredRows(answer, sent[c])) assert.ok(stored.has(row[0]), row[0])
    })
  })
})
