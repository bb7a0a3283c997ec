// What an operator reads: each network failure named by its cause, client aborts at info level,
// and repeated entries counted instead of written again (docs/design.md#relay).
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { connect } from 'node:net'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startRelayServer } from '../../dist/relay.js'
import {
  assertRefused,
  eventRow,
  EVENTS_PATH,
  EVENTS_QUERY,
  ORGANIZATION,
  smcOptions,
  useHarness,
} from './harness.mjs'

const h = useHarness()

/** A loopback port nothing listens on: it was just freed. */
async function closedPort() {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('relay logs', () => {
  test('network failures name their cause: refused, DNS, TLS, timeout', async () => {
    const simPort = new URL(h.server.url).port
    const cases = [
      [`http://127.0.0.1:${await closedPort()}`, {}, /connection refused \(ECONNREFUSED\)/],
      ['https://smc.invalid', {}, /DNS lookup failed \((ENOTFOUND|EAI_AGAIN)\)/],
      // TLS spoken to a plain-HTTP server: the handshake fails.
      [`https://127.0.0.1:${simPort}`, {}, /TLS failed \(/],
    ]
    const messages = []
    for (const [smcAdminUrl, extra, pattern] of cases) {
      h.logs.length = 0
      const relay = h.makeRelay({ smcAdminUrl, ...extra })
      const sent = await h.sendEvents([eventRow('m-1')], { via: relay })
      assertRefused(sent, 503, 'ERR_SMC_UNREACHABLE')
      const [entry] = h.logs.filter((e) => e.event === 'smc_failed')
      assert.match(entry?.message ?? '', pattern, JSON.stringify(h.logs))
      messages.push(entry.message)
    }
    h.sim.setFaults({ delayMs: 500 })
    h.logs.length = 0
    assertRefused(
      await h.sendEvents([eventRow('m-2')], { via: h.makeRelay({ timeoutMs: 50 }) }),
      503,
      'ERR_SMC_TIMEOUT',
    )
    messages.push(h.logs.find((e) => e.event === 'smc_failed')?.message)
    assert.equal(new Set(messages).size, 4, messages.join('\n'))
  })

  test('a client that goes away mid-body is logged as an abort, at info level, not as a bug', async (t) => {
    const logs = []
    const relay = await startRelayServer({
      ...smcOptions(h.server.url),
      port: 0,
      drainTimeoutMs: 200,
      log: (entry) => logs.push(entry),
    })
    t.after(() => relay.close())
    const socket = connect(Number(new URL(relay.url).port), '127.0.0.1')
    socket.on('error', () => undefined)
    await once(socket, 'connect')
    socket.write(
      `POST ${EVENTS_PATH}?${EVENTS_QUERY} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n[["m`,
    )
    await sleep(100)
    socket.destroy()
    const start = Date.now()
    while (!logs.some((entry) => entry.event === 'aborted') && Date.now() - start < 2000)
      await sleep(20)
    const aborted = logs.find((entry) => entry.event === 'aborted')
    assert.equal(aborted?.level, 'info', JSON.stringify(logs))
    assert.ok(!logs.some((entry) => entry.level === 'error'), JSON.stringify(logs))
  })

  /** Lines of `event`, and how many occurrences they stand for: a summary line, its repeats. */
  const occurrences = (event) => {
    const lines = h.logs.filter((entry) => entry.event === event)
    return { lines: lines.length, count: lines.reduce((n, e) => n + (e.repeated ?? 1), 0) }
  }

  test('a spent budget is logged once, then once per interval with its count', async () => {
    h.logs.length = 0
    // 10 calls a minute: one may be spent at once. Each request is its own call.
    const relay = h.makeRelay({
      budgetPerMinute: 10,
      logIntervalMs: 500,
      coalesceWindowMs: 0,
      maxRows: 1,
    })
    assert.equal((await h.sendEvents([eventRow('first')], { via: relay })).status, 200)
    const refused = await Promise.all(
      Array.from({ length: 20 }, (_, i) => h.sendEvents([eventRow(`m-${i}`)], { via: relay })),
    )
    assert.deepEqual(new Set(refused.map((sent) => sent.status)), new Set([429]))
    await sleep(600)
    const { lines, count } = occurrences('budget_exhausted')
    assert.equal(count, 20, 'every refusal counted')
    // The first line at once, then one with the count per interval the requests spanned.
    assert.ok(lines <= 4, `${lines} lines`)
    const summary = h.logs.find((entry) => entry.repeated)
    assert.match(summary?.message ?? '', /\(\d+ more in the last 500 ms\)$/)
  })

  test('refusals a client can repeat at will are counted, not written each time', async () => {
    h.logs.length = 0
    const relay = h.makeRelay({ logIntervalMs: 500 })
    await Promise.all(
      Array.from({ length: 30 }, () =>
        h.send(`/organizations/${ORGANIZATION}/journeys/x`, { via: relay, body: [] }),
      ),
    )
    await sleep(600)
    const { lines, count } = occurrences('rejected')
    assert.equal(count, 30)
    assert.ok(lines <= 4, `${lines} lines`)
  })
})
