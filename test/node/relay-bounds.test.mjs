// Bounded under abuse: connections, bodies in memory, slow headers and bodies, SMC calls in flight
// (docs/design.md#relay). Real sockets against a relay on loopback; each test starts its own
// relay with small bounds and stops it. The large floods are `npm run bench:relay`'s.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startRelayServer } from '../../dist/relay.js'
import { eventRow, EVENTS_PATH, EVENTS_QUERY, smcOptions, useSimulator } from './harness.mjs'

const smc = useSimulator()
const { sim } = smc

/** A relay with these bounds, stopped after the test; its log entries are kept. */
async function relayWith(t, options) {
  const logs = []
  const relay = await startRelayServer({
    ...smcOptions(smc.url),
    coalesceWindowMs: 5,
    port: 0,
    log: (entry) => logs.push(entry),
    drainTimeoutMs: 200,
    ...options,
  })
  t.after(() => {
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    return relay.close()
  })
  const { port } = new URL(relay.url)
  return { relay, port: Number(port), logs }
}

/** Raw connections still open, closed after each test. */
const sockets = new Set()

/**
 * A raw connection: writes `text` and collects what comes back. `closed` resolves with it all
 * once the relay closes the connection, or with what came so far after `waitMs`.
 */
function rawConnection(port, text = '', waitMs = 4000) {
  const socket = connect(port, '127.0.0.1')
  sockets.add(socket)
  const state = { data: '', socket }
  socket.on('data', (chunk) => (state.data += chunk))
  socket.on('error', () => undefined)
  state.closed = Promise.race([
    once(socket, 'close').then(() => state.data),
    sleep(waitMs).then(() => `still open after ${waitMs} ms: ${state.data}`),
  ])
  if (text) socket.write(text)
  return state
}

/** Headers of an events load declaring `length` bytes of body. */
const uploadHead = (length) =>
  `POST ${EVENTS_PATH}?${EVENTS_QUERY} HTTP/1.1\r\nHost: relay.test\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n\r\n`

const status = async (relay) => (await fetch(`${relay.url}/status`)).status

/** Polls until `check` holds, or fails after `ms`. */
async function until(check, ms = 3000) {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms`)
    await sleep(20)
  }
}

describe('relay bounds', { timeout: 20_000 }, () => {
  test('bodies held in memory are bounded: past maxBufferedBytes, 503 with Retry-After; /status answers', async (t) => {
    const { relay, port, logs } = await relayWith(t, {
      maxBufferedBytes: 64_000,
      maxBytes: 50_000,
      bodyTimeoutMs: 5000,
    })
    // Two stalled uploads of 30,000 bytes each hold 60,000 of the 64,000.
    rawConnection(port, uploadHead(40_000) + '['.repeat(30_000))
    rawConnection(port, uploadHead(40_000) + '['.repeat(30_000))
    await sleep(200)
    const third = rawConnection(port, uploadHead(40_000) + '['.repeat(30_000))
    const answer = await third.closed
    assert.match(answer, /^HTTP\/1\.1 503/, answer)
    assert.match(answer, /Retry-After: \d+/i)
    assert.match(answer, /ERR_RELAY_BUSY/)
    assert.equal(await status(relay), 200)
    assert.ok(logs.some((entry) => entry.event === 'relay_busy'))
  })

  test('a body slower than bodyTimeoutMs: 408, the connection closed, its bytes given back', async (t) => {
    const { relay, port } = await relayWith(t, { bodyTimeoutMs: 300, maxBufferedBytes: 40_000 })
    const started = Date.now()
    const slow = rawConnection(port, uploadHead(40_000) + '['.repeat(30_000))
    const answer = await slow.closed
    assert.match(answer, /^HTTP\/1\.1 408/, answer)
    assert.match(answer, /ERR_BODY_TIMEOUT/)
    assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`)
    // The 30,000 bytes are free again: a request of the same size passes.
    const rows = JSON.stringify([eventRow('after', { PROPERTIES: 'p'.repeat(29_000) })])
    const response = await fetch(`${relay.url}${EVENTS_PATH}?${EVENTS_QUERY}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: rows,
    })
    assert.equal(response.status, 200, await response.text())
  })

  test('headers slower than headerTimeoutMs: 408 and closed', async (t) => {
    const { port } = await relayWith(t, { headerTimeoutMs: 200 })
    const started = Date.now()
    const slow = rawConnection(port, 'POST / HTTP/1.1\r\nHost: relay.test\r\n')
    const answer = await slow.closed
    assert.match(answer, /^HTTP\/1\.1 408/, answer)
    assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`)
  })

  test('past maxConnections, stalled connections make way for new ones, and /status answers', async (t) => {
    const { relay } = await relayWith(t, { maxConnections: 8, headerTimeoutMs: 30_000 })
    const { port } = new URL(relay.url)
    for (let i = 0; i < 30; i++) {
      rawConnection(Number(port), 'GET /status HTTP/1.1\r\nHost: relay.test\r\n')
    }
    await until(async () => {
      const open = await new Promise((resolve) => relay.server.getConnections((_, n) => resolve(n)))
      return open <= 8
    })
    await sleep(100)
    const open = await new Promise((resolve) => relay.server.getConnections((_, n) => resolve(n)))
    assert.ok(open <= 8, `${open} connections open`)
    assert.equal(await status(relay), 200)
  })

  test('at most maxSmcCalls SMC calls in flight: calls beyond wait for one to end', async (t) => {
    sim.setFaults({ delayMs: 150 })
    const { relay } = await relayWith(t, { maxSmcCalls: 2, coalesceWindowMs: 0, maxRows: 1 })
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        fetch(`${relay.url}${EVENTS_PATH}?${EVENTS_QUERY}`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: JSON.stringify([eventRow(`m-${i}`)]),
        }),
      ),
    )
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200, 200],
    )
    assert.equal(sim.state().maxInFlight, 2)
  })

  test('SMC hanging: it holds maxSmcCalls calls, not one per merged call, and every caller is answered retryably in time', async (t) => {
    sim.setFaults({ delayMs: 5000 })
    const { relay } = await relayWith(t, {
      maxSmcCalls: 2,
      coalesceWindowMs: 0,
      maxRows: 1,
      timeoutMs: 400,
    })
    const started = Date.now()
    const pending = Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fetch(`${relay.url}${EVENTS_PATH}?${EVENTS_QUERY}`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: JSON.stringify([eventRow(`m-${i}`)]),
        }),
      ),
    )
    // From the first call on, until the relay gives up on it, SMC holds what the relay let through.
    await until(() => sim.calls > 0)
    const first = Date.now()
    let held = 0
    while (Date.now() - first < 200) {
      held = Math.max(held, sim.state().inFlight)
      await sleep(10)
    }
    assert.equal(held, 2)
    for (const answer of await pending) {
      assert.equal(answer.status, 503)
      assert.ok(Number(answer.headers.get('retry-after')) >= 1)
    }
    assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`)
  })
})
