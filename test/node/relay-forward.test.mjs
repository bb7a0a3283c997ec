// What the relay lets through reaches SMC as the wire contract says (docs/design.md#wire-contract),
// with the relay's credentials only.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  COLUMNS,
  useHarness,
  eventRow,
  EVENTS_PATH,
  EVENTS_QUERY,
  SEGMENT_PATH,
  SEGMENT_QUERY,
} from './harness.mjs'

const h = useHarness()

const stored = () => h.sim.state().lists.segment_events.records.map((r) => r.fields)
const members = () =>
  h.sim.state().lists.USERS_SEGMENT.segments.SegmentToSMCStatic.map((m) => m.fields.MAIL)

describe('relay forwarding', () => {
  test("event rows are loaded into the events list and SMC's verdict is passed back", async () => {
    const sent = await h.sendEvents([
      eventRow('m-1'),
      eventRow('m-2', { EVENT_TYPE: 'page', EVENT_NAME: 'Home' }),
    ])
    assert.equal(sent.status, 200)
    assert.equal(sent.body.result_code, 'Succeeded')
    assert.equal(sent.body.number_of_failed_records, 0)
    assert.deepEqual(
      stored().map((f) => [f.EVENT_ID, f.EVENT_TYPE, f.EVENT_NAME]),
      [
        ['m-1', 'track', 'Order Completed'],
        ['m-2', 'page', 'Home'],
      ],
    )
    const [call] = h.sim.state().log
    assert.equal(call.path, EVENTS_PATH)
    assert.equal(call.query, EVENTS_QUERY)
  })

  test('application/json is accepted as well as text/plain', async () => {
    const sent = await h.sendEvents([eventRow('m-1')], {
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    })
    assert.equal(sent.status, 200)
  })

  test('a retried row replaces itself: upsert by EVENT_ID', async () => {
    await h.sendEvents([eventRow('m-1')])
    await h.sendEvents([eventRow('m-1')])
    const records = h.sim.state().lists.segment_events.records
    assert.equal(records.length, 1)
    assert.equal(records[0].writes, 2)
  })

  test('group ADD and REMOVE change the static segment', async () => {
    const added = await h.send(`${SEGMENT_PATH}/data/load?${SEGMENT_QUERY}`, {
      body: [['jane@example.com']],
    })
    assert.equal(added.status, 200)
    assert.deepEqual(members(), ['jane@example.com'])
    const removed = await h.send(`${SEGMENT_PATH}/data?${SEGMENT_QUERY}`, {
      method: 'DELETE',
      body: [['jane@example.com']],
    })
    assert.equal(removed.status, 200)
    assert.equal(removed.body.result_code, 'Succeeded')
    assert.deepEqual(members(), [])
  })

  test('renamed and dropped columns are what the relay expects and forwards', async () => {
    const relay = h.makeRelay({ columns: { EVENT_ID: 'MESSAGE_ID', CONTEXT: null } })
    const fields = COLUMNS.filter((c) => c !== 'CONTEXT').map((c) =>
      c === 'EVENT_ID' ? 'MESSAGE_ID' : c,
    )
    const refused = await h.sendEvents([eventRow('m-1')], { via: relay })
    assert.equal(refused.status, 400, 'the default columns no longer pass')
    const sent = await h.send(`${EVENTS_PATH}?keyFields=MESSAGE_ID&fields=${fields.join(',')}`, {
      body: [fields.map(() => 'v')],
      via: relay,
    })
    assert.equal(sent.status, 400, "forwarded: the simulator's list has no MESSAGE_ID column")
    assert.equal(sent.body.result_code, 'ValidationFailed', "SMC's own answer, passed back")
    assert.equal(h.sim.state().log[0].query, `keyFields=MESSAGE_ID&fields=${fields.join(',')}`)
  })

  test('client credentials and cookies are dropped; the relay adds its own X-ApiKey', async () => {
    const sent = await h.sendEvents([eventRow('m-1')], {
      headers: {
        'X-ApiKey': 'attacker:guess',
        Authorization: 'Bearer x',
        Cookie: 'session=1',
        'X-ApiKey-Secret': 'x',
      },
    })
    assert.equal(sent.status, 200)
    const [call] = h.sim.state().log
    assert.equal(call.auth, 'valid')
    for (const name of ['authorization', 'cookie', 'x-apikey-secret'])
      assert.ok(!call.headerNames.includes(name), name)
    assert.equal(sent.headers.get('set-cookie'), null)
  })

  test('CORS: an allowed origin gets its preflight and readable answers', async () => {
    const preflight = await h.send(`${SEGMENT_PATH}/data?${SEGMENT_QUERY}`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://shop.example',
        'Access-Control-Request-Method': 'DELETE',
        'Access-Control-Request-Headers': 'content-type',
      },
    })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://shop.example')
    assert.match(preflight.headers.get('access-control-allow-methods'), /DELETE/)
    assert.match(preflight.headers.get('access-control-allow-headers'), /Content-Type/i)
    assert.equal(preflight.headers.get('access-control-allow-credentials'), null)

    const sent = await h.sendEvents([eventRow('m-1')], {
      headers: { Origin: 'https://shop.example' },
    })
    assert.equal(sent.status, 200)
    assert.equal(sent.headers.get('access-control-allow-origin'), 'https://shop.example')
    assert.match(sent.headers.get('access-control-expose-headers'), /Retry-After/)
    assert.equal(sent.headers.get('vary'), 'Origin')
  })

  test('CORS: same-origin and origin-less requests pass without CORS headers', async () => {
    const same = await h.sendEvents([eventRow('m-1')], { headers: { Origin: 'http://relay.test' } })
    assert.equal(same.status, 200)
    assert.equal(same.headers.get('access-control-allow-origin'), null)
    const none = await h.sendEvents([eventRow('m-2')])
    assert.equal(none.status, 200)
  })

  test("GET /status answers the relay's own health without calling SMC", async () => {
    const sent = await h.send('/status', { method: 'GET' })
    assert.equal(sent.status, 200)
    assert.equal(h.sim.calls, 0)
  })

  test('forwarded calls are logged with target, rows, callers and duration', async () => {
    await h.sendEvents([eventRow('m-1')])
    const entry = h.logs.findLast((e) => e.event === 'forwarded')
    assert.equal(entry.level, 'info')
    assert.equal(entry.rows, 1)
    assert.equal(entry.callers, 1)
    assert.equal(entry.status, 200)
    assert.match(entry.target, /segment_events/)
    assert.equal(typeof entry.ms, 'number')
  })
})
