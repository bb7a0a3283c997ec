// When SMC cannot take rows now, callers are told to retry (and when), so browsers keep them.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { assertRefused, createHarness, eventRow, useHarness } from './harness.mjs'

const h = useHarness()

const retryAfter = (sent) => Number(sent.headers.get('retry-after'))

describe('relay retryable answers', () => {
  test('SMC down (503) → 503 with Retry-After', async () => {
    h.sim.setFaults({ unavailable: true })
    const sent = await h.sendEvents([eventRow('m-1')])
    assertRefused(sent, 503, 'ERR_SMC_UNAVAILABLE')
    assert.ok(retryAfter(sent) >= 1)
  })

  test('SMC drops the connection → 503 with Retry-After', async () => {
    h.sim.setFaults({ dropConnection: true })
    const sent = await h.sendEvents([eventRow('m-1')])
    assertRefused(sent, 503, 'ERR_SMC_UNREACHABLE')
    assert.ok(retryAfter(sent) >= 1)
  })

  test('SMC not listening at all → 503', async () => {
    const relay = h.makeRelay({ smcAdminUrl: 'http://127.0.0.1:9' })
    assertRefused(await h.sendEvents([eventRow('m-1')], { via: relay }), 503, 'ERR_SMC_UNREACHABLE')
  })

  test('SMC slower than the timeout → 503', async () => {
    h.sim.setFaults({ delayMs: 1000 })
    const relay = h.makeRelay({ timeoutMs: 100 })
    const started = Date.now()
    const sent = await h.sendEvents([eventRow('m-1')], { via: relay })
    assertRefused(sent, 503, 'ERR_SMC_TIMEOUT')
    assert.ok(Date.now() - started < 900, 'answered at the timeout, not when SMC finished')
  })

  test('SMC over quota (429) → 429 with its reset time; the relay then holds back without calling', async () => {
    const limited = await createHarness({ simulator: { rateLimitPerMinute: 1 } })
    try {
      assert.equal((await limited.sendEvents([eventRow('m-1')])).status, 200)
      const refused = await limited.sendEvents([eventRow('m-2')])
      assertRefused(refused, 429, 'ERR_SMC_RATE_LIMITED')
      assert.ok(
        retryAfter(refused) >= 1 && retryAfter(refused) <= 60,
        refused.headers.get('retry-after'),
      )
      const held = await limited.sendEvents([eventRow('m-3')])
      assert.equal(held.status, 429)
      assert.ok(retryAfter(held) >= 1)
      assert.equal(limited.sim.calls, 2, 'the third request never reached SMC')
      limited.assertNoSecrets()
    } finally {
      await limited.close()
    }
  })

  test("the relay's budget spent → 429 with Retry-After, nothing forwarded", async () => {
    const relay = h.makeRelay({ budgetPerMinute: 2 })
    assert.equal((await h.sendEvents([eventRow('m-1')], { via: relay })).status, 200)
    const refused = await h.sendEvents([eventRow('m-2')], { via: relay })
    assertRefused(refused, 429, 'ERR_BUDGET_EXHAUSTED')
    assert.ok(retryAfter(refused) >= 1, refused.headers.get('retry-after'))
    assert.equal(h.sim.calls, 1)
    assert.ok(h.logs.some((entry) => entry.event === 'budget_exhausted'))
  })

  test('per-client rate limit → 429 with Retry-After; other clients unaffected', async () => {
    const relay = h.makeRelay({ rateLimitPerClient: 2 })
    const from = (address, id) => h.sendEvents([eventRow(id)], { via: relay, client: { address } })
    assert.equal((await from('10.0.0.1', 'a')).status, 200)
    assert.equal((await from('10.0.0.1', 'b')).status, 200)
    const refused = await from('10.0.0.1', 'c')
    assertRefused(refused, 429, 'ERR_CLIENT_RATE_LIMITED')
    assert.ok(retryAfter(refused) >= 1 && retryAfter(refused) <= 60)
    assert.equal((await from('10.0.0.2', 'd')).status, 200)
    assert.equal(h.sim.calls, 3)
  })

  test('/status is never rate limited: health checks come from one address, whatever the traffic', async () => {
    const relay = h.makeRelay({ rateLimitPerClient: 1 })
    const client = { address: '10.0.0.9' }
    assert.equal((await h.sendEvents([eventRow('a')], { via: relay, client })).status, 200)
    for (let i = 0; i < 5; i++) {
      const status = await h.send('/status', { method: 'GET', via: relay, client })
      assert.equal(status.status, 200, status.text)
    }
  })

  test('preflights count against the per-client limit', async () => {
    const relay = h.makeRelay({ rateLimitPerClient: 2 })
    const client = { address: '10.0.0.3' }
    const preflight = () =>
      h.send('/organizations/acme/lists/segment_events/data/load', {
        method: 'OPTIONS',
        via: relay,
        client,
        headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST' },
      })
    assert.equal((await preflight()).status, 204)
    assert.equal((await preflight()).status, 204)
    const refused = await h.sendEvents([eventRow('p')], { via: relay, client })
    assertRefused(refused, 429, 'ERR_CLIENT_RATE_LIMITED')
    assert.equal((await preflight()).status, 429)
    assert.equal(h.sim.calls, 0)
  })

  test('behind a proxy, the client is the last address of the configured header', async () => {
    const relay = h.makeRelay({
      rateLimitPerClient: 1,
      clientAddressHeader: 'X-Forwarded-For',
      trustedProxies: ['127.0.0.1'],
    })
    const from = (forwarded, id) =>
      h.sendEvents([eventRow(id)], {
        via: relay,
        client: { address: '127.0.0.1' },
        headers: { 'X-Forwarded-For': forwarded },
      })
    assert.equal((await from('1.1.1.1, 10.0.0.1', 'a')).status, 200)
    assert.equal(
      (await from('2.2.2.2, 10.0.0.1', 'b')).status,
      429,
      'a spoofed first entry does not make a new client',
    )
    assert.equal((await from('10.0.0.2', 'c')).status, 200)
  })

  test("SMC refuses the relay's key → 502, so browsers keep the rows; the key is not echoed", async () => {
    const relay = h.makeRelay({ apiSecret: 'not-the-secret' })
    const sent = await h.sendEvents([eventRow('m-1')], { via: relay })
    assertRefused(sent, 502, 'ERR_SMC_CREDENTIALS')
    assert.ok(!sent.text.includes('not-the-secret'))
    assert.ok(!JSON.stringify(h.logs).includes('not-the-secret'))
  })
})
