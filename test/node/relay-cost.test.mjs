// A client is limited by what its requests cost SMC, not only by their number
// (docs/relay.md#limits-by-cost): calls are paid by their callers' clients in equal parts, and the
// re-sends that isolate a refused caller by that caller's client.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { assertRefused, eventRow, EVENTS_PATH, EVENTS_QUERY, useHarness } from './harness.mjs'

const h = useHarness()

const at = (address) => ({ client: { address } })
/** 1 % of 5,000 calls a minute: 50 calls a client, 5 of them at once, then about one a second. */
const SHARE_OF_50 = { budgetPerMinute: 5000, clientBudgetPercent: 1 }

describe('relay limits by cost', () => {
  test('a client sending requests alone is stopped at its share of the budget; others are not', async () => {
    const relay = h.makeRelay({ ...SHARE_OF_50, coalesceWindowMs: 0 })
    const answers = []
    for (let i = 0; i < 8; i++) {
      answers.push(await h.sendEvents([eventRow(`alone-${i}`)], { via: relay, ...at('192.0.2.1') }))
    }
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [200, 200, 200, 200, 200, 200, 429, 429],
    )
    assertRefused(answers[6], 429, 'ERR_CLIENT_RATE_LIMITED')
    assert.ok(Number(answers[6].headers.get('retry-after')) >= 1)
    assert.equal(h.sim.calls, 6)
    const other = await h.sendEvents([eventRow('other')], { via: relay, ...at('192.0.2.2') })
    assert.equal(other.status, 200, other.text)
  })

  test('callers sharing a call each pay a part of it', async () => {
    const relay = h.makeRelay({ ...SHARE_OF_50, coalesceWindowMs: 20 })
    // Four clients merged into one call a round pay a quarter each: four times the rounds of a
    // client alone before the share stops them.
    let rounds = 0
    for (; rounds < 40; rounds++) {
      const answers = await Promise.all(
        [1, 2, 3, 4].map((c) =>
          h.sendEvents([eventRow(`shared-${rounds}-${c}`)], { via: relay, ...at(`192.0.2.${c}`) }),
        ),
      )
      if (answers.some((answer) => answer.status === 429)) break
      for (const answer of answers) assert.equal(answer.status, 200, answer.text)
    }
    assert.ok(rounds >= 20 && rounds < 40, `${rounds} rounds`)
    // The last round's call, if any, carried the clients not yet stopped.
    assert.ok(h.sim.calls === rounds || h.sim.calls === rounds + 1, `${h.sim.calls} calls`)
  })

  test('the re-sends isolating a refused caller are paid by its client alone', async () => {
    h.sim.setFaults({ refuseWhole: '400' })
    const relay = h.makeRelay({
      budgetPerMinute: 100,
      clientBudgetPercent: 5,
      coalesceWindowMs: 20,
    })
    const bad = eventRow('bad', { EVENT_TYPE: 'x'.repeat(21) })
    const answers = await Promise.all([
      ...Array.from({ length: 8 }, (_, c) =>
        h.sendEvents([eventRow(`good-${c}`)], { via: relay, ...at(`198.51.100.${c + 1}`) }),
      ),
      h.sendEvents([bad], { via: relay, ...at('203.0.113.9') }),
    ])
    assert.equal(answers[8].status, 400, answers[8].text)
    for (const answer of answers.slice(0, 8)) assert.equal(answer.status, 200, answer.text)
    // 9 callers halved down to the bad one: 1 merged call and 6 re-sends.
    assert.equal(h.sim.calls, 7)
    const again = await h.sendEvents([eventRow('bad-again')], { via: relay, ...at('203.0.113.9') })
    assertRefused(again, 429, 'ERR_CLIENT_RATE_LIMITED')
    const innocent = await h.sendEvents([eventRow('good-again')], {
      via: relay,
      ...at('198.51.100.1'),
    })
    assert.equal(innocent.status, 200, innocent.text)
  })
  test('a client SMC refused alone calls alone from then on, and no log line names its address as a target', async () => {
    h.sim.setFaults({ refuseWhole: '400' })
    const relay = h.makeRelay({ coalesceWindowMs: 20 })
    const bad = eventRow('bad', { EVENT_TYPE: 'x'.repeat(21) })
    await Promise.all([
      h.sendEvents([eventRow('good-1')], { via: relay, ...at('198.51.100.1') }),
      h.sendEvents([bad], { via: relay, ...at('203.0.113.9') }),
    ])
    h.sim.setFaults({ refuseWhole: '' })
    const callsBefore = h.sim.calls
    const answers = await Promise.all([
      h.sendEvents([eventRow('good-2')], { via: relay, ...at('198.51.100.1') }),
      h.sendEvents([eventRow('fixed')], { via: relay, ...at('203.0.113.9') }),
    ])
    for (const answer of answers) assert.equal(answer.status, 200, answer.text)
    assert.equal(h.sim.calls - callsBefore, 2, 'the refused client shares no call')
    const targets = h.logs.map((entry) => String(entry.target ?? ''))
    assert.ok(targets.includes(`POST ${EVENTS_PATH}?${EVENTS_QUERY}`), JSON.stringify(targets))
    for (const target of targets) assert.ok(!target.includes('203.0.113.9'), target)
  })
})
