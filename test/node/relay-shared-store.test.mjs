// Relays in one process sharing a real Redis (docs/relay-scale-out.md) through stores that can be
// cut off one by one: what the fallback spent is paid back only where it went beyond the budget,
// and a client's cost counts across instances.
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from '@redis/client'
import { eventRow, useHarness } from './harness.mjs'
import { startRedis } from '../redisServer.mjs'

const h = useHarness()
let redis
let redisClient
before(async () => {
  redis = await startRedis()
  redisClient = createClient({ url: redis.url })
  await redisClient.connect()
})
beforeEach(() => redisClient.flushAll())
after(async () => {
  await redisClient.close()
  await redis.stop()
})

/** A store on the test's Redis that fails, as an unreachable one does, while `down`. */
function cutOffStore() {
  const store = {
    down: false,
    async eval(script, keys, args) {
      if (store.down) throw new Error('connection refused')
      return redisClient.eval(script, { keys: [...keys], arguments: [...args] })
    },
  }
  return store
}

/** `count` relays of one budget, each with a store of its own on the test's Redis. */
function makeRelays(count, options) {
  return Array.from({ length: count }, () => {
    const store = cutOffStore()
    return { store, relay: h.makeRelay({ instances: count, store, ...options }) }
  })
}

/** A client's statuses: one request after another, each as soon as the last is answered, until `until`. */
async function sendUntil(relay, until, name) {
  const statuses = []
  while (Date.now() < until) {
    const sent = await h.sendEvents([eventRow(`${name}-${statuses.length}`)], { via: relay })
    statuses.push(sent.status)
  }
  return statuses
}

/** 600 calls a minute: each of 3 instances falls back to 200 (20 at once, then 3 a second). */
const BUDGET = { budgetPerMinute: 600, rateLimitPerClient: 0, coalesceWindowMs: 0 }

describe('relays sharing a Redis that goes away', () => {
  test('when Redis comes back, instances that kept to their shares are not held back', async () => {
    const relays = makeRelays(3, BUDGET)
    for (const [i, { relay }] of relays.entries()) {
      assert.equal((await h.sendEvents([eventRow(`before-${i}`)], { via: relay })).status, 200)
    }
    for (const { store } of relays) store.down = true
    const until = Date.now() + 4000
    const during = await Promise.all(
      relays.map(({ relay }, i) => sendUntil(relay, until, `during-${i}`)),
    )
    for (const statuses of during) {
      assert.ok(statuses.length >= 8, `${statuses.length} calls on a share of 3 a second`)
      assert.deepEqual(new Set(statuses), new Set([200]))
    }
    for (const { store } of relays) store.down = false
    // Past the second each instance waits before trying the store again.
    await sleep(1100)
    const back = Date.now()
    const after = await Promise.all(
      relays.map(({ relay }, i) => h.sendEvents([eventRow(`after-${i}`)], { via: relay })),
    )
    for (const sent of after) assert.equal(sent.status, 200, sent.text)
    assert.ok(Date.now() - back < 1000, `answered after ${Date.now() - back} ms`)
    assert.ok(h.logs.filter((entry) => entry.event === 'store_back').length >= 3)
  })

  test('an instance cut off alone while the others spent the budget pays back what it spent', async () => {
    // 200 calls a minute each alone (3 a second); callers wait half a second at most, so that a
    // budget in the red shows at once.
    const [alone, others] = makeRelays(2, {
      ...BUDGET,
      budgetPerMinute: 400,
      maxCoalesceWaitMs: 500,
    })
    assert.equal((await h.sendEvents([eventRow('seen')], { via: alone.relay })).status, 200)
    alone.store.down = true
    const until = Date.now() + 5000
    const [aloneStatuses] = await Promise.all([
      sendUntil(alone.relay, until, 'alone'),
      ...Array.from({ length: 8 }, (_, c) => sendUntil(others.relay, until, `others-${c}`)),
    ])
    assert.ok(aloneStatuses.filter((status) => status === 200).length >= 10)
    alone.store.down = false
    await sleep(1100)
    const back = await h.sendEvents([eventRow('back')], { via: alone.relay })
    assert.equal(back.status, 429)
    const held = await h.sendEvents([eventRow('held')], { via: others.relay })
    assert.equal(held.status, 429, held.text)
  })
})

describe('relays sharing a Redis: limits by cost', () => {
  test("a client's SMC calls count on every instance: spent across two, it is refused on both, another client is not", async () => {
    // 1 % of 5,000 calls a minute: 50 calls a client, 5 of them at once. Alone, each of the two
    // instances would allow 25, 2.5 of them at once.
    const [first, second] = makeRelays(2, {
      budgetPerMinute: 5000,
      clientBudgetPercent: 1,
      coalesceWindowMs: 0,
    })
    const at = (address) => ({ client: { address } })
    const statuses = []
    for (const [i, { relay }] of [first, first, first, first, second, second, second].entries()) {
      statuses.push(
        (await h.sendEvents([eventRow(`spent-${i}`)], { via: relay, ...at('192.0.2.1') })).status,
      )
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429])
    const refused = await h.sendEvents([eventRow('spent-again')], {
      via: first.relay,
      ...at('192.0.2.1'),
    })
    assert.equal(refused.status, 429)
    assert.equal(refused.body.errors[0].error_code, 'ERR_CLIENT_RATE_LIMITED')
    const other = await h.sendEvents([eventRow('other')], { via: second.relay, ...at('192.0.2.2') })
    assert.equal(other.status, 200, other.text)
  })
})
