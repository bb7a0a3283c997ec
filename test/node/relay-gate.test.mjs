// Every gate rule (docs/design.md#relay) has a case here, and each proves that nothing reached SMC.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  assertRefused,
  useHarness,
  eventRow,
  EVENTS_PATH,
  EVENTS_QUERY,
  ORGANIZATION,
  SEGMENT_PATH,
  SEGMENT_QUERY,
} from './harness.mjs'

const h = useHarness()

const ROW = eventRow('m-1')
const events = (query = EVENTS_QUERY) => `${EVENTS_PATH}?${query}`
const COLUMNS_TEXT = EVENTS_QUERY.split('fields=')[1]

/** [name, path, init, status, error code] */
const CASES = [
  [
    'an unknown path',
    `/organizations/${ORGANIZATION}/lists/segment_events/data?${EVENTS_QUERY}`,
    {},
    404,
    'ERR_NOT_FOUND',
  ],
  ['the relay root', '/', {}, 404, 'ERR_NOT_FOUND'],
  [
    'SMC paths outside the targets (journeys)',
    `/organizations/${ORGANIZATION}/journeys/custom/j/entrypoints/e/trigger`,
    {},
    404,
    'ERR_NOT_FOUND',
  ],
  ['a trailing slash', `${EVENTS_PATH}/?${EVENTS_QUERY}`, {}, 404, 'ERR_NOT_FOUND'],
  [
    'GET on the load path',
    events(),
    { method: 'GET', body: undefined },
    405,
    'ERR_METHOD_NOT_ALLOWED',
  ],
  ['PUT on the load path', events(), { method: 'PUT' }, 405, 'ERR_METHOD_NOT_ALLOWED'],
  ['DELETE on the events list', events(), { method: 'DELETE' }, 405, 'ERR_METHOD_NOT_ALLOWED'],
  [
    'POST on the segment remove path',
    `${SEGMENT_PATH}/data?${SEGMENT_QUERY}`,
    { body: [['a@b.c']] },
    405,
    'ERR_METHOD_NOT_ALLOWED',
  ],
  [
    'another organization',
    events().replace(`/${ORGANIZATION}/`, '/globex/'),
    {},
    403,
    'ERR_ORGANIZATION',
  ],
  [
    'another data list',
    events().replace('segment_events', 'other_list'),
    {},
    403,
    'ERR_LIST_NOT_ALLOWED',
  ],
  [
    'a load into a user list',
    events().replace('segment_events', 'USERS_SEGMENT'),
    {},
    403,
    'ERR_LIST_NOT_ALLOWED',
  ],
  [
    'a segment of an unconfigured list',
    `/organizations/${ORGANIZATION}/lists/segment_events/segments/s/data/load?${SEGMENT_QUERY}`,
    { body: [['a@b.c']] },
    403,
    'ERR_SEGMENT_NOT_ALLOWED',
  ],
  [
    'a dot segment in the raw target',
    events(),
    {
      client: {
        rawTarget: `/organizations/${ORGANIZATION}/lists/x/../segment_events/data/load?${EVENTS_QUERY}`,
      },
    },
    400,
    'ERR_UNSAFE_PATH',
  ],
  [
    'an encoded dot segment',
    events(),
    {
      client: { rawTarget: `/organizations/${ORGANIZATION}/lists/%2e%2e/segment_events/data/load` },
    },
    400,
    'ERR_UNSAFE_PATH',
  ],
  [
    'a raw target naming another host (//host/…), though the URL parsed from it reads as a path',
    events(),
    { client: { rawTarget: `//evil.example${events()}` } },
    400,
    'ERR_REQUEST_TARGET',
  ],
  [
    'a raw target in absolute form (http://host/…)',
    events(),
    { client: { rawTarget: `http://evil.example${events()}` } },
    400,
    'ERR_REQUEST_TARGET',
  ],
  [
    'a raw target the URL parser rewrites',
    events(),
    { client: { rawTarget: events().replace('/data/load', '/data/load{') } },
    400,
    'ERR_REQUEST_TARGET',
  ],
  [
    "an Origin naming the URL's host, not the Host header (same-origin is the Host header's)",
    events(),
    { headers: { Origin: 'http://relay.test', Host: 'shop-relay.example' } },
    403,
    'ERR_ORIGIN_NOT_ALLOWED',
  ],
  [
    'an encoded slash',
    events().replace('segment_events', 'segment%2Fevents'),
    {},
    400,
    'ERR_UNSAFE_PATH',
  ],
  [
    'a backslash',
    events().replace('segment_events', 'segment%5Cevents'),
    {},
    400,
    'ERR_UNSAFE_PATH',
  ],
  [
    'a segment name outside the safe charset',
    `${SEGMENT_PATH.replace('SegmentToSMCStatic', 'seg.name')}/data/load?${SEGMENT_QUERY}`,
    { body: [['a@b.c']] },
    400,
    'ERR_API_NAME',
  ],
  [
    'an extra query parameter (create_segment_name)',
    events(`${EVENTS_QUERY}&create_segment_name=x`),
    {},
    400,
    'ERR_QUERY_PARAMETER',
  ],
  [
    'an unknown query parameter',
    events(`${EVENTS_QUERY}&mode=Stream`),
    {},
    400,
    'ERR_QUERY_PARAMETER',
  ],
  [
    'a repeated query parameter',
    events(`${EVENTS_QUERY}&keyFields=EVENT_ID`),
    {},
    400,
    'ERR_QUERY_PARAMETER',
  ],
  ['no query', EVENTS_PATH, {}, 400, 'ERR_QUERY_PARAMETER'],
  [
    'missing fields (header-row form)',
    events('keyFields=EVENT_ID'),
    {},
    400,
    'ERR_QUERY_PARAMETER',
  ],
  [
    'another key field',
    events(`keyFields=USER_ID&fields=${COLUMNS_TEXT}`),
    {},
    400,
    'ERR_QUERY_PARAMETER',
  ],
  [
    'fields in another order',
    events(`keyFields=EVENT_ID&fields=${COLUMNS_TEXT.split(',').reverse().join(',')}`),
    {},
    400,
    'ERR_QUERY_PARAMETER',
  ],
  [
    'an unconfigured column',
    events(`keyFields=EVENT_ID&fields=${COLUMNS_TEXT},SECRET_COLUMN`),
    {},
    400,
    'ERR_QUERY_PARAMETER',
  ],
  [
    'segment fields other than the match key',
    `${SEGMENT_PATH}/data/load?keyFields=MAIL&fields=MAIL,NAME`,
    { body: [['a@b.c', 'x']] },
    400,
    'ERR_QUERY_PARAMETER',
  ],
  [
    'several segment match keys',
    `${SEGMENT_PATH}/data/load?keyFields=MAIL,ID&fields=MAIL,ID`,
    { body: [['a@b.c', '1']] },
    400,
    'ERR_QUERY_PARAMETER',
  ],
  ['a row of the wrong arity', events(), { body: [ROW, ROW.slice(1)] }, 400, 'ERR_INVALID_ROWS'],
  ['a row with an extra cell', events(), { body: [[...ROW, 'x']] }, 400, 'ERR_INVALID_ROWS'],
  [
    'a number cell',
    events(),
    { body: [ROW.map((c, i) => (i === 3 ? 42 : c))] },
    400,
    'ERR_INVALID_ROWS',
  ],
  [
    'a null cell',
    events(),
    { body: [ROW.map((c, i) => (i === 3 ? null : c))] },
    400,
    'ERR_INVALID_ROWS',
  ],
  [
    'an object cell',
    events(),
    { body: [ROW.map((c, i) => (i === 6 ? { a: 1 } : c))] },
    400,
    'ERR_INVALID_ROWS',
  ],
  ['a row that is an object', events(), { body: [{ EVENT_ID: 'm-1' }] }, 400, 'ERR_INVALID_ROWS'],
  [
    'a segment row of two cells',
    `${SEGMENT_PATH}/data/load?${SEGMENT_QUERY}`,
    { body: [['a@b.c', 'x']] },
    400,
    'ERR_INVALID_ROWS',
  ],
  ['an empty array', events(), { body: [] }, 400, 'ERR_MALFORMED_BODY'],
  ['an object body', events(), { body: { rows: [ROW] } }, 400, 'ERR_MALFORMED_BODY'],
  ['malformed JSON', events(), { body: '[["m-1",' }, 400, 'ERR_MALFORMED_BODY'],
  ['no body', events(), { body: undefined }, 400, 'ERR_MALFORMED_BODY'],
  [
    'invalid UTF-8',
    events(),
    { body: new Uint8Array([0x5b, 0x5b, 0x22, 0xff, 0x22, 0x5d, 0x5d]) },
    400,
    'ERR_MALFORMED_BODY',
  ],
  [
    'a form body',
    events(),
    { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
    415,
    'ERR_CONTENT_TYPE',
  ],
  ['no content type', events(), { headers: { 'Content-Type': '' } }, 415, 'ERR_CONTENT_TYPE'],
  [
    'a foreign origin',
    events(),
    { headers: { Origin: 'https://evil.example' } },
    403,
    'ERR_ORIGIN_NOT_ALLOWED',
  ],
  ['an opaque origin', events(), { headers: { Origin: 'null' } }, 403, 'ERR_ORIGIN_NOT_ALLOWED'],
  [
    'an allowed origin on another scheme',
    events(),
    { headers: { Origin: 'http://shop.example' } },
    403,
    'ERR_ORIGIN_NOT_ALLOWED',
  ],
  [
    'a preflight from a foreign origin',
    events(),
    {
      method: 'OPTIONS',
      body: undefined,
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    },
    403,
    'ERR_ORIGIN_NOT_ALLOWED',
  ],
  [
    'a preflight for PUT',
    events(),
    {
      method: 'OPTIONS',
      body: undefined,
      headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'PUT' },
    },
    405,
    'ERR_METHOD_NOT_ALLOWED',
  ],
]

describe('relay gate: refused with a JSON reason, nothing forwarded', () => {
  for (const [name, path, init, status, code] of CASES) {
    test(name, async () => {
      const before = h.sim.calls
      const sent = await h.send(path, { body: [ROW], ...init })
      assertRefused(sent, status, code)
      assert.equal(h.sim.calls, before, 'nothing reached SMC')
    })
  }

  test('too many rows: 413', async () => {
    const relay = h.makeRelay({ maxRows: 3 })
    const sent = await h.send(events(), {
      body: [0, 1, 2, 3].map((i) => eventRow(`m-${i}`)),
      via: relay,
    })
    assertRefused(sent, 413, 'ERR_TOO_MANY_ROWS')
    assert.equal(h.sim.calls, 0)
  })

  test('a body over maxBytes: 413, whether or not Content-Length says so', async () => {
    const relay = h.makeRelay({ maxBytes: 200 })
    const body = JSON.stringify([eventRow('m-1', { PROPERTIES: 'x'.repeat(300) })])
    assertRefused(await h.send(events(), { body, via: relay }), 413, 'ERR_BODY_TOO_LARGE')
    const stream = new Blob([body]).stream()
    const request = new Request(`http://relay.test${events()}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: stream,
      duplex: 'half',
    })
    assert.equal(request.headers.get('content-length'), null)
    assertRefused(await h.record(await relay(request)), 413, 'ERR_BODY_TOO_LARGE')
    assert.equal(h.sim.calls, 0)
  })

  test('a bad row list names each bad row, at most ten', async () => {
    const rows = Array.from({ length: 12 }, () => ['x'])
    const sent = await h.send(events(), { body: rows })
    assert.equal(sent.body.errors.length, 10)
    assert.match(sent.body.errors[0].description, /Row 0 has 1 cells; 9 expected/)
    assert.match(sent.body.message, /12 row/)
  })

  test('refusals are logged with their reason, never their body', () => {
    const rejected = h.logs.filter((entry) => entry.event === 'rejected')
    // Repeats of one kind are counted, not written again: each reason appears at least once.
    const codes = new Set(rejected.map((entry) => entry.code))
    for (const [name, , , , code] of CASES) assert.ok(codes.has(code), `${name}: ${code}`)
    for (const entry of rejected) {
      assert.equal(entry.level, 'warn')
      assert.equal(typeof entry.code, 'string')
    }
  })
})
