// The relay mounted inside a site's app (`basePath`, `RELAY_BASE_PATH`): it serves the plugin's
// paths, `/status` and `/ready` under the mount path, refuses every other path, and the gate's
// checks of the raw request target hold with the prefix in it.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, test } from 'node:test'
import { createRelay, ENV_NAMES, RelayConfigError } from '../../dist/relay.js'
import {
  API_KEY,
  API_SECRET,
  assertRefused,
  eventRow,
  EVENTS_PATH,
  EVENTS_QUERY,
  ORGANIZATION,
  runCli,
  smcOptions,
  useHarness,
} from './harness.mjs'

const h = useHarness()
const EVENTS = `${EVENTS_PATH}?${EVENTS_QUERY}`

describe('basePath', () => {
  test("serves the plugin's rows, /status and /ready under the mount path", async () => {
    const relay = h.makeRelay({ basePath: '/smc' })
    const sent = await h.send(`/smc${EVENTS}`, { body: [eventRow('mounted')], via: relay })
    assert.equal(sent.status, 200, sent.text)
    assert.equal(sent.body.result_code, 'Succeeded')
    assert.deepEqual(
      h.sim.state().lists.segment_events.records.map((record) => record.fields.EVENT_ID),
      ['mounted'],
    )
    for (const probe of ['/smc/status', '/smc/ready']) {
      assert.equal((await h.send(probe, { method: 'GET', via: relay })).status, 200, probe)
    }
  })

  test('refuses every path outside the mount path, the root and look-alike prefixes included', async () => {
    const relay = h.makeRelay({ basePath: '/smc/v1' })
    for (const path of [
      EVENTS,
      `/smc${EVENTS}`,
      `/smc/v1x${EVENTS}`,
      `/smc/v2${EVENTS}`,
      `/other/smc/v1${EVENTS}`,
    ]) {
      const sent = await h.send(path, { body: [eventRow('outside')], via: relay })
      assertRefused(sent, 404, 'ERR_NOT_FOUND')
    }
    for (const probe of ['/status', '/smc/status', '/smc/v1']) {
      assert.equal((await h.send(probe, { method: 'GET', via: relay })).status, 404, probe)
    }
    assert.equal(h.sim.state().log.length, 0)
  })

  test('the raw request target is checked with the prefix in it: dot segments and rewrites are refused', async () => {
    const relay = h.makeRelay({ basePath: '/smc' })
    const accepted = await h.send(`/smc${EVENTS}`, {
      body: [eventRow('raw')],
      client: { rawTarget: `/smc${EVENTS}` },
      via: relay,
    })
    assert.equal(accepted.status, 200, accepted.text)
    // `/smc/x/../organizations/…` parses to the mounted path, but is refused as written.
    const dotted = await h.send(`/smc${EVENTS}`, {
      body: [eventRow('dotted')],
      client: { rawTarget: `/smc/x/..${EVENTS}` },
      via: relay,
    })
    assertRefused(dotted, 400, 'ERR_UNSAFE_PATH')
    // A framework that stripped the mount path before handing the target on: read two ways.
    const stripped = await h.send(`/smc${EVENTS}`, {
      body: [eventRow('stripped')],
      client: { rawTarget: EVENTS },
      via: relay,
    })
    assertRefused(stripped, 400, 'ERR_REQUEST_TARGET')
  })

  test('a bad mount path is refused at creation, naming the option and the value', () => {
    for (const bad of ['smc', '/smc/', '//smc', '/smc/../admin', '/./smc', '/s mc', '/smc?x', 7]) {
      assert.throws(
        () =>
          createRelay({
            ...smcOptions(h.server.url),
            basePath: bad,
          }),
        (error) =>
          error instanceof RelayConfigError &&
          error.problems.some(
            (problem) =>
              problem.startsWith(`basePath (${ENV_NAMES.basePath})`) &&
              problem.endsWith(`got ${JSON.stringify(bad)}`),
          ),
        String(bad),
      )
    }
  })

  test('"/" is the root', async () => {
    const sent = await h.send(EVENTS, {
      body: [eventRow('root')],
      via: h.makeRelay({ basePath: '/' }),
    })
    assert.equal(sent.status, 200, sent.text)
  })

  test('the CLI reads RELAY_BASE_PATH', async () => {
    const { child, listening } = runCli({
      SMC_ADMIN_URL: h.server.url,
      SMC_ORGANIZATION: ORGANIZATION,
      SMC_API_KEY: API_KEY,
      SMC_API_SECRET: API_SECRET,
      RELAY_BASE_PATH: '/smc',
      PORT: '0',
    })
    try {
      const url = await listening
      const post = (path) =>
        fetch(`${url}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: JSON.stringify([eventRow('cli')]),
        })
      const mounted = await h.record(await post(`/smc${EVENTS}`))
      assert.equal(mounted.status, 200, mounted.text)
      assertRefused(await h.record(await post(EVENTS)), 404, 'ERR_NOT_FOUND')
    } finally {
      child.kill('SIGTERM')
      if (child.exitCode === null) await once(child, 'exit')
    }
  })
})
