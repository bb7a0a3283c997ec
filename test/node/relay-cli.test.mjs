// The `selligent-relay` bin: starts from the environment, refuses a bad one naming each problem.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, test } from 'node:test'
import {
  API_KEY,
  API_SECRET,
  assertNoCredential,
  eventRow,
  EVENTS_PATH,
  EVENTS_QUERY,
  ORGANIZATION,
  runCli,
  useSimulator,
} from './harness.mjs'

const smc = useSimulator()
const { sim } = smc

const RELAY_ENV = {
  SMC_ORGANIZATION: ORGANIZATION,
  SMC_API_KEY: API_KEY,
  SMC_API_SECRET: API_SECRET,
  RELAY_COALESCE_WINDOW_MS: '5',
  PORT: '0',
  HOST: '127.0.0.1',
}

describe('selligent-relay CLI', () => {
  test('starts from the environment and relays', async () => {
    const { child, output, listening } = runCli({ ...RELAY_ENV, SMC_ADMIN_URL: smc.url })
    try {
      const url = await listening
      const response = await fetch(`${url}${EVENTS_PATH}?${EVENTS_QUERY}`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: JSON.stringify([eventRow('cli-1')]),
      })
      assert.equal(response.status, 200, await response.clone().text())
      assert.equal((await response.json()).result_code, 'Succeeded')
      assert.equal(sim.state().lists.segment_events.records[0].fields.EVENT_ID, 'cli-1')
    } finally {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
    assert.match(output.stdout, /"event":"forwarded"/, 'logs each SMC call as a JSON line')
    assert.ok(!`${output.stdout}${output.stderr}`.includes(API_SECRET))
    assert.ok(!`${output.stdout}${output.stderr}`.includes(API_KEY))
  })

  test('refuses a bad environment with exit code 2, naming each problem', async () => {
    const { child, output } = runCli({
      SMC_ADMIN_URL: 'acme.slgnt.eu',
      SMC_API_SECRET: API_SECRET,
      RELAY_BUDGET_PER_MINUTE: 'lots',
      RELAY_ALLOWED_ORIGINS: 'shop.example',
      PORT: 'http',
    })
    const [code] = await once(child, 'exit')
    assert.equal(code, 2)
    for (const name of [
      'SMC_ADMIN_URL',
      'SMC_ORGANIZATION',
      'SMC_API_KEY',
      'RELAY_BUDGET_PER_MINUTE',
      'RELAY_ALLOWED_ORIGINS',
      'PORT',
    ]) {
      assert.match(output.stderr, new RegExp(`${name}`), name)
    }
    assert.match(output.stderr, /"acme.slgnt.eu"/, 'shows the bad value')
    assert.ok(!output.stderr.includes(API_SECRET))
    assert.equal(output.stdout, '')
  })

  test('an admin URL carrying credentials is refused without printing them, in any form', async () => {
    const { child, output } = runCli({
      ...RELAY_ENV,
      SMC_ADMIN_URL: `https://${API_KEY}:${API_SECRET}@acme.slgnt.eu`,
      SMC_API_KEY: 'other-key',
      SMC_API_SECRET: 'other-secret',
    })
    const [code] = await once(child, 'exit')
    assert.equal(code, 2)
    assert.match(output.stderr, /SMC_ADMIN_URL/)
    assert.match(output.stderr, /\[redacted\]@acme\.slgnt\.eu/)
    assertNoCredential(output.stderr)
  })

  for (const signal of ['SIGTERM', 'SIGINT']) {
    test(`${signal} drains: a request in flight is answered, a stalled upload is cut, and it exits within RELAY_DRAIN_TIMEOUT_MS`, async () => {
      sim.setFaults({ delayMs: 300 })
      const cli = runCli({ ...RELAY_ENV, SMC_ADMIN_URL: smc.url, RELAY_DRAIN_TIMEOUT_MS: '1000' })
      const { child } = cli
      try {
        const url = await cli.listening
        const { port } = new URL(url)
        // A client that sends half a body and stalls, and one that connects and says nothing.
        const stalled = [
          `POST ${EVENTS_PATH}?${EVENTS_QUERY} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n[[`,
          '',
        ].map((text) => {
          const socket = connect(Number(port), '127.0.0.1')
          socket.on('error', () => undefined)
          if (text) socket.write(text)
          return { socket, data: '', closed: once(socket, 'close') }
        })
        for (const client of stalled) client.socket.on('data', (d) => (client.data += d))
        const inFlight = fetch(`${url}${EVENTS_PATH}?${EVENTS_QUERY}`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: JSON.stringify([eventRow(`drain-${signal}`)]),
        })
        // Stopped once the request is being forwarded.
        while (sim.calls === 0) await sleep(10)
        const stopped = Date.now()
        child.kill(signal)
        const answer = await inFlight
        assert.equal(answer.status, 200, await answer.clone().text())
        const [code] = await Promise.race([once(child, 'exit'), sleep(5000).then(() => ['alive'])])
        assert.equal(code, 0)
        // The drain timeout, and a margin for the signal and a loaded test machine.
        assert.ok(Date.now() - stopped < 3000, `exited after ${Date.now() - stopped} ms`)
        await Promise.all(stalled.map((client) => client.closed))
        assert.match(stalled[0].data, /^HTTP\/1\.1 503/, 'the stalled upload is answered')
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL')
      }
    })
  }
})
