// The node:http adapter: real sockets, raw request targets, streamed bodies.
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { startRelayServer } from '../../dist/relay.js'
import {
  API_KEY,
  API_SECRET,
  createTestSimulator,
  eventRow,
  EVENTS_PATH,
  EVENTS_QUERY,
  ORGANIZATION,
  rawRequest,
  smcOptions,
} from './harness.mjs'

const sim = createTestSimulator()
let relay
const logs = []
before(async () => {
  const smc = await sim.listen()
  relay = await startRelayServer({
    ...smcOptions(smc.url),
    allowedOrigins: ['https://shop.example'],
    coalesceWindowMs: 5,
    maxBytes: 4096,
    port: 0,
    log: (entry) => logs.push(JSON.stringify(entry)),
  })
})
beforeEach(() => sim.reset())
after(async () => {
  await relay.close()
  await sim.close()
})

/** Sends a raw request target, which fetch would normalize. */
function raw(method, path, body, headers = {}) {
  return rawRequest({
    port: new URL(relay.url).port,
    method,
    path,
    headers: { 'Content-Type': 'text/plain', ...headers },
    body,
  })
}

describe('relay on node:http', () => {
  test('listens on loopback by default form and forwards a load', async () => {
    assert.match(relay.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const response = await fetch(`${relay.url}${EVENTS_PATH}?${EVENTS_QUERY}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: 'https://shop.example' },
      body: JSON.stringify([eventRow('m-1')]),
    })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://shop.example')
    assert.equal((await response.json()).result_code, 'Succeeded')
    assert.equal(sim.state().lists.segment_events.records.length, 1)
  })

  test('a dot segment in the raw target is refused, not resolved', async () => {
    for (const path of [
      `/organizations/${ORGANIZATION}/lists/x/../segment_events/data/load?${EVENTS_QUERY}`,
      `/organizations/${ORGANIZATION}/lists/x/%2E%2E/segment_events/data/load?${EVENTS_QUERY}`,
      `/organizations/${ORGANIZATION}/lists/./segment_events/data/load?${EVENTS_QUERY}`,
    ]) {
      const answer = await raw('POST', path, JSON.stringify([eventRow('m-1')]))
      assert.equal(answer.status, 400, path)
      assert.equal(JSON.parse(answer.text).errors[0].error_code, 'ERR_UNSAFE_PATH')
    }
    assert.equal(sim.calls, 0)
  })

  test('a target naming another host (//host/…, http://host/…) does not make its origin same-origin', async () => {
    const body = JSON.stringify([eventRow('m-1')])
    for (const target of [
      `//evil.example${EVENTS_PATH}?${EVENTS_QUERY}`,
      `http://evil.example${EVENTS_PATH}?${EVENTS_QUERY}`,
    ]) {
      const answer = await raw('POST', target, body, { Origin: 'https://evil.example' })
      assert.equal(answer.status, 400, target)
      assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8')
      assert.equal(JSON.parse(answer.text).errors[0].error_code, 'ERR_REQUEST_TARGET')
    }
    const plain = await raw('POST', `${EVENTS_PATH}?${EVENTS_QUERY}`, body, {
      Origin: 'https://evil.example',
    })
    assert.equal(plain.status, 403, 'the same origin by the plain path')
    assert.equal(sim.calls, 0)
  })

  test('the same origin is judged by the Host header', async () => {
    const { host } = new URL(relay.url)
    const body = JSON.stringify([eventRow('m-1')])
    const same = await raw('POST', `${EVENTS_PATH}?${EVENTS_QUERY}`, body, {
      Origin: `https://${host}`,
    })
    assert.equal(same.status, 200, same.text)
    const other = await raw('POST', `${EVENTS_PATH}?${EVENTS_QUERY}`, body, {
      Origin: 'https://shop-relay.example',
      Host: 'shop-relay.example',
    })
    assert.equal(other.status, 200, 'a proxy passing the site host on')
  })

  test('OPTIONS * reaches the relay as a preflight would', async () => {
    const answer = await raw('OPTIONS', '*', undefined, {
      Origin: 'https://shop.example',
      'Access-Control-Request-Method': 'POST',
    })
    assert.equal(answer.status, 204)
  })

  test('a chunked body over maxBytes is cut off with 413', async () => {
    const big = JSON.stringify([eventRow('m-1', { PROPERTIES: 'x'.repeat(10_000) })])
    const answer = await raw('POST', `${EVENTS_PATH}?${EVENTS_QUERY}`, big, {
      'Transfer-Encoding': 'chunked',
    })
    assert.equal(answer.status, 413)
    assert.equal(sim.calls, 0)
  })

  test('client credentials sent over the wire are not forwarded', async () => {
    const answer = await raw(
      'POST',
      `${EVENTS_PATH}?${EVENTS_QUERY}`,
      JSON.stringify([eventRow('m-1')]),
      {
        'X-ApiKey': 'evil:guess',
        Cookie: 'sid=1',
        Authorization: 'Basic eDp5',
      },
    )
    assert.equal(answer.status, 200)
    const [call] = sim.state().log
    assert.equal(call.auth, 'valid')
    assert.ok(!call.headerNames.includes('cookie') && !call.headerNames.includes('authorization'))
  })

  test('no answer or log line carries the credentials', async () => {
    const answer = await raw('DELETE', `${EVENTS_PATH}?${EVENTS_QUERY}`, '[]')
    assert.equal(answer.status, 405)
    for (const line of [answer.text, JSON.stringify(answer.headers), ...logs]) {
      assert.ok(!line.includes(API_KEY) && !line.includes(API_SECRET), line)
    }
  })
})
