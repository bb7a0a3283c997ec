// Group commit: callers for one target share SMC calls, and each is answered about its own rows.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { useHarness, eventRow, SEGMENT_PATH, SEGMENT_QUERY } from './harness.mjs'

const h = useHarness()

/** EVENT_TYPE is 20 characters at most in the simulator's events list. */
const TOO_LONG = 'x'.repeat(21)

describe('relay coalescing', () => {
  test('200 concurrent callers → a handful of SMC calls, each caller answered with its own counts', async () => {
    const relay = h.makeRelay({ coalesceWindowMs: 20 })
    const callers = Array.from({ length: 200 }, (_, c) =>
      Array.from({ length: 1 + (c % 3) }, (_, r) => eventRow(`c${c}-r${r}`)),
    )
    const answers = await Promise.all(callers.map((rows) => h.sendEvents(rows, { via: relay })))

    assert.ok(h.sim.calls >= 1 && h.sim.calls <= 5, `${h.sim.calls} SMC calls`)
    answers.forEach((answer, c) => {
      assert.equal(answer.status, 200)
      assert.deepEqual(
        answer.body,
        { result_code: 'Succeeded', number_of_failed_records: 0, invalid_records: [] },
        `caller ${c}`,
      )
    })
    const total = callers.reduce((n, rows) => n + rows.length, 0)
    assert.equal(h.sim.state().lists.segment_events.records.length, total)
  })

  test('coalesce: false (Cloudflare Workers) gives each request a call of its own, without the window', async () => {
    const relay = h.makeRelay({ coalesce: false, coalesceWindowMs: 5000 })
    const started = Date.now()
    const answers = await Promise.all(
      Array.from({ length: 3 }, (_, c) => h.sendEvents([eventRow(`alone-${c}`)], { via: relay })),
    )
    for (const answer of answers) assert.equal(answer.body.result_code, 'Succeeded', answer.text)
    assert.equal(h.sim.calls, 3, 'one call per request')
    assert.ok(Date.now() - started < 5000, 'no request waited for others')
    assert.throws(
      () => h.makeRelay({ coalesce: 'no' }),
      (error) =>
        error.problems.includes('coalesce (RELAY_COALESCE) must be true or false; got "no"'),
    )
  })

  test('while the budget allows no call, callers wait in one open batch and share the next call instead of being refused', async () => {
    // 60 calls a minute: 6 at once, then one every 1.1 s.
    const relay = h.makeRelay({ budgetPerMinute: 60, coalesceWindowMs: 0, maxCoalesceWaitMs: 3000 })
    for (let i = 0; i < 6; i++) {
      assert.equal((await h.sendEvents([eventRow(`spent-${i}`)], { via: relay })).status, 200)
    }
    const started = Date.now()
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, c) => h.sendEvents([eventRow(`waited-${c}`)], { via: relay })),
    )
    for (const answer of answers) assert.equal(answer.body.result_code, 'Succeeded', answer.text)
    assert.equal(h.sim.calls, 7, 'the ten callers shared one call')
    assert.ok(Date.now() - started >= 500, 'they waited for the budget')
  })

  test('a partial failure: each caller gets only its invalid rows, re-indexed to its own body', async () => {
    const relay = h.makeRelay({ coalesceWindowMs: 20 })
    const bodies = [
      [eventRow('a-0'), eventRow('a-1')],
      [eventRow('b-0'), eventRow('b-1', { EVENT_TYPE: TOO_LONG }), eventRow('b-2')],
      [eventRow('c-0', { EVENT_TYPE: TOO_LONG })],
      [eventRow('d-0'), eventRow('d-1'), eventRow('d-2', { EVENT_TYPE: TOO_LONG })],
    ]
    const [a, b, c, d] = await Promise.all(bodies.map((rows) => h.sendEvents(rows, { via: relay })))
    assert.equal(h.sim.calls, 1, 'one merged call')

    assert.equal(a.body.result_code, 'Succeeded')
    assert.equal(a.body.number_of_failed_records, 0)

    assert.equal(b.body.result_code, 'PartiallySucceeded')
    assert.deepEqual(
      b.body.invalid_records.map((r) => [r.record_index, r.field_name, r.validation_code]),
      [[1, 'EVENT_TYPE', 'MaxStringLengthExceeded']],
    )
    assert.equal(b.body.number_of_failed_records, 1)

    assert.equal(c.body.result_code, 'Failed', 'every row of this caller failed')
    assert.deepEqual(
      c.body.invalid_records.map((r) => r.record_index),
      [0],
    )
    assert.equal(c.body.number_of_failed_records, 1)

    assert.equal(d.body.result_code, 'PartiallySucceeded')
    assert.deepEqual(
      d.body.invalid_records.map((r) => r.record_index),
      [2],
    )
    assert.equal(d.body.number_of_failed_records, 1)

    for (const answer of [a, b, c, d]) {
      assert.equal(answer.status, 200)
      assert.deepEqual(
        Object.keys(answer.body),
        ['result_code', 'number_of_failed_records', 'invalid_records'],
        'what the browser reads, nothing else',
      )
    }
  })

  test('a merged call is capped at maxRows; a request is never split', async () => {
    const relay = h.makeRelay({ coalesceWindowMs: 20, maxRows: 5 })
    const answers = await Promise.all(
      [3, 3, 3, 5].map((n, c) =>
        h.sendEvents(
          Array.from({ length: n }, (_, r) => eventRow(`c${c}-${r}`)),
          { via: relay },
        ),
      ),
    )
    assert.ok(answers.every((a) => a.status === 200))
    const calls = h.sim.state().log
    assert.ok(
      calls.every((call) => call.rows <= 5),
      JSON.stringify(calls.map((call) => call.rows)),
    )
    assert.equal(
      calls.reduce((n, call) => n + call.rows, 0),
      14,
    )
    assert.deepEqual(
      answers.map((a) => a.body.result_code),
      ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded'],
    )
  })

  test('different targets are never merged', async () => {
    const relay = h.makeRelay({ coalesceWindowMs: 20 })
    await Promise.all([
      h.sendEvents([eventRow('m-1')], { via: relay }),
      h.send(`${SEGMENT_PATH}/data/load?${SEGMENT_QUERY}`, {
        body: [['a@example.com']],
        via: relay,
      }),
      h.send(`${SEGMENT_PATH}/data?${SEGMENT_QUERY}`, {
        method: 'DELETE',
        body: [['b@example.com']],
        via: relay,
      }),
    ])
    assert.equal(h.sim.calls, 3)
  })

  test('an SMC answer that is not per row reaches every caller alike', async () => {
    const relay = h.makeRelay({
      coalesceWindowMs: 20,
      segments: ['segment_events/missing:EVENT_ID'],
    })
    const path =
      '/organizations/acme/lists/segment_events/segments/missing/data/load?keyFields=EVENT_ID&fields=EVENT_ID'
    const answers = await Promise.all(
      [['x'], ['y']].map((row) => h.send(path, { body: [row], via: relay })),
    )
    assert.equal(h.sim.calls, 1)
    for (const answer of answers) {
      assert.equal(answer.status, 502)
      assert.equal(answer.body.errors[0].error_code, 'ERR_SMC_NOT_FOUND')
    }
  })
})
