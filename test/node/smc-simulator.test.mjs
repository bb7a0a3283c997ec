// The simulator is a test asset the relay's tests rely on, so it is judged against SMC's own
// Swagger description: every answer's keys and enum values are read out of swagger-v1.yaml.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, beforeEach, describe, test } from 'node:test'
import { createSmcSimulator } from '../smc-simulator/createSmcSimulator.mjs'
import { readAnswer } from './harness.mjs'
import { DEFAULT_LISTS } from '../smc-simulator/defaults.mjs'

// The models of SMC's public Swagger file the simulator answers with, committed with it: no test
// reads outside the repository.
const SWAGGER = readFileSync(
  new URL('../smc-simulator/swagger-models.yaml', import.meta.url),
  'utf8',
)

/** The property names of a Swagger definition, and the enum of each property that has one. */
function definition(name, yaml = SWAGGER) {
  const lines = yaml.split('\n')
  const start = lines.indexOf(`  ${name}:`)
  assert.ok(start > 0, `definition ${name} in the Swagger file`)
  const properties = {}
  let current
  let inEnum = false
  for (const line of lines.slice(start + 1)) {
    if (/^ {2}\S/.test(line)) break
    const property = /^ {6}(\w+):$/.exec(line)
    if (property) {
      current = properties[property[1]] = { enum: [] }
      inEnum = false
    } else if (/^ {8}enum:$/.test(line)) inEnum = true
    else if (inEnum && /^ {10}- /.test(line)) current.enum.push(line.trim().slice(2))
    else if (/^ {8}\S/.test(line)) inEnum = false
  }
  return properties
}

const LOAD_MODEL = definition('LoadDataResponseModel')
const DELETE_MODEL = definition('DeleteDataResponseModel')
const INVALID_RECORD = definition('InvalidRecordModel')
const ERROR_DTO = definition('ErrorDTO')

const KEY = 'k-1'
const SECRET = 's-1'
const AUTH = { 'X-ApiKey': `${KEY}:${SECRET}`, 'Content-Type': 'application/json' }
const LIST =
  '/Portal/Api/organizations/acme/lists/segment_events/data/load?keyFields=EVENT_ID&fields=EVENT_ID,EVENT_TYPE'
const SEGMENT = '/Portal/Api/organizations/acme/lists/USERS_SEGMENT/segments/SegmentToSMCStatic'

const sim = createSmcSimulator({ apiKey: KEY, apiSecret: SECRET, rateLimitPerMinute: 1000 })
let base = ''
before(async () => {
  base = (await sim.listen()).url
})
after(() => sim.close())
beforeEach(() => sim.reset())

async function call(path, { method = 'POST', body, headers = AUTH } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return readAnswer(response)
}

function assertModel(model, swagger) {
  assert.deepEqual(
    Object.keys(model).sort(),
    Object.keys(swagger).sort(),
    'the keys of the Swagger model, no more, no less',
  )
  assert.ok(swagger.result_code.enum.includes(model.result_code))
  for (const [key, value] of Object.entries(model)) {
    if (key.startsWith('number_of_')) assert.ok(Number.isInteger(value), key)
  }
  for (const record of model.invalid_records) {
    assert.deepEqual(Object.keys(record).sort(), Object.keys(INVALID_RECORD).sort())
    assert.ok(
      INVALID_RECORD.validation_code.enum.includes(record.validation_code),
      record.validation_code,
    )
  }
}

describe('SMC simulator', () => {
  test('GET /Portal/Api/status answers 200 without credentials', async () => {
    assert.equal((await call('/Portal/Api/status', { method: 'GET', headers: {} })).status, 200)
  })

  test('a load answers a LoadDataResponseModel with the Swagger keys, and upserts by key', async () => {
    const first = await call(LIST, {
      body: [
        ['m-1', 'track'],
        ['m-2', 'page'],
      ],
    })
    assert.equal(first.status, 200)
    assertModel(first.body, LOAD_MODEL)
    assert.equal(first.body.result_code, 'Succeeded')
    assert.equal(first.body.number_of_inserted_records, 2)

    const again = await call(LIST, { body: [['m-1', 'identify']] })
    assert.equal(again.body.number_of_updated_records, 1)
    const records = sim.state().lists.segment_events.records
    assert.equal(records.length, 2)
    assert.deepEqual(
      records.map((r) => [r.fields.EVENT_ID, r.fields.EVENT_TYPE, r.writes]),
      [
        ['m-1', 'identify', 2],
        ['m-2', 'page', 1],
      ],
    )
  })

  test('bad rows are invalid_records with SMC validation codes; the rest is stored', async () => {
    const long = 'x'.repeat(DEFAULT_LISTS.segment_events.columns.EVENT_TYPE + 1)
    const { status, body: json } = await call(LIST, {
      body: [['m-1', 'track'], ['m-2'], ['m-3', long], ['m-4', { a: 1 }], ['m-5', 5]],
    })
    assert.equal(status, 200, 'a partial failure still answers 200')
    assertModel(json, LOAD_MODEL)
    assert.equal(json.result_code, 'PartiallySucceeded')
    assert.equal(json.number_of_failed_records, 3)
    assert.deepEqual(
      json.invalid_records.map((r) => [r.record_index, r.field_name, r.validation_code]),
      [
        [1, null, 'InvalidFieldCount'],
        [2, 'EVENT_TYPE', 'MaxStringLengthExceeded'],
        [3, 'EVENT_TYPE', 'InvalidType'],
      ],
    )
    assert.match(
      json.invalid_records[1].message,
      /Length of string \(21\) exceeds maximum field length \(20\)/,
    )
    assert.deepEqual(
      sim.state().lists.segment_events.records.map((r) => r.fields.EVENT_ID),
      ['m-1', 'm-5'],
    )
  })

  test('rows repeating a key in one call count as duplicates; the last one wins', async () => {
    const { body: json } = await call(LIST, {
      body: [
        ['m-1', 'a'],
        ['m-1', 'b'],
      ],
    })
    assert.equal(json.number_of_inserted_records, 1)
    assert.equal(json.number_of_duplicate_records, 1)
    assert.equal(sim.state().lists.segment_events.records[0].fields.EVENT_TYPE, 'b')
  })

  test('without fields, the first row is the header row', async () => {
    const path = '/Portal/Api/organizations/acme/lists/USERS_SEGMENT/data/load?keyFields=MAIL'
    const { body: json } = await call(path, {
      body: [
        ['MAIL', 'NAME'],
        ['jane@example.com', 'Jane'],
      ],
    })
    assert.equal(json.number_of_inserted_records, 1)
    assert.equal(sim.state().lists.USERS_SEGMENT.records[0].fields.NAME, 'Jane')
  })

  test('segment add and remove change membership only; remove answers a DeleteDataResponseModel', async () => {
    const query = '?keyFields=MAIL&fields=MAIL'
    const added = await call(`${SEGMENT}/data/load${query}`, { body: [['jane@example.com']] })
    assertModel(added.body, LOAD_MODEL)
    assert.deepEqual(
      sim.state().lists.USERS_SEGMENT.segments.SegmentToSMCStatic.map((m) => m.fields.MAIL),
      ['jane@example.com'],
    )
    const removed = await call(`${SEGMENT}/data${query}`, {
      method: 'DELETE',
      body: [['jane@example.com'], ['nobody@example.com']],
    })
    assertModel(removed.body, DELETE_MODEL)
    assert.equal(removed.body.number_of_deleted_records, 1)
    assert.equal(removed.body.number_of_records_not_found, 1)
    const users = sim.state().lists.USERS_SEGMENT
    assert.equal(users.segments.SegmentToSMCStatic.length, 0)
    assert.equal(users.records.length, 1, 'the list record stays')
  })

  test('refusals: credentials, organization, list, segment, fields, body, media type', async () => {
    const cases = [
      [LIST, { headers: { 'Content-Type': 'application/json' } }, 401],
      [LIST, { headers: { ...AUTH, 'X-ApiKey': `${KEY}:wrong` } }, 401],
      [LIST.replace('/acme/', '/other/'), {}, 403],
      [LIST.replace('segment_events', 'nope'), {}, 404],
      [
        `${SEGMENT.replace('SegmentToSMCStatic', 'nope')}/data/load?keyFields=MAIL&fields=MAIL`,
        {},
        404,
      ],
      ['/Portal/Api/organizations/acme/lists/segment_events/data/load?fields=EVENT_ID', {}, 400],
      [
        '/Portal/Api/organizations/acme/lists/segment_events/data/load?keyFields=NOPE&fields=NOPE',
        {},
        400,
      ],
      [LIST, { body: { not: 'rows' } }, 400],
      [LIST, { headers: { ...AUTH, 'Content-Type': 'text/plain' } }, 415],
      ['/Portal/Api/organizations/acme/nothing', {}, 404],
    ]
    for (const [path, init, status] of cases) {
      const answer = await call(path, { body: [['m-1', 'track']], ...init })
      assert.equal(answer.status, status, `${path} ${JSON.stringify(init)}: ${answer.text}`)
      if (answer.body?.errors) {
        assert.ok(LOAD_MODEL.result_code.enum.includes(answer.body.result_code))
        assert.deepEqual(Object.keys(answer.body.errors[0]).sort(), Object.keys(ERROR_DTO).sort())
      }
    }
    assert.equal(sim.state().lists.segment_events.records.length, 0)
  })

  test('past the per-minute limit: 429 with X-RateLimit-* headers', async () => {
    const limited = createSmcSimulator({ apiKey: KEY, apiSecret: SECRET, rateLimitPerMinute: 2 })
    const answers = []
    for (let i = 0; i < 3; i++) {
      answers.push(
        await limited.handler(
          new Request(`http://sim${LIST}`, { method: 'POST', headers: AUTH, body: '[["m","t"]]' }),
        ),
      )
    }
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 429],
    )
    assert.equal(answers[0].headers.get('x-ratelimit-remaining'), '1')
    const refused = answers[2]
    assert.equal(refused.headers.get('x-ratelimit-limit'), '2')
    assert.equal(refused.headers.get('x-ratelimit-remaining'), '0')
    assert.ok(Number(refused.headers.get('x-ratelimit-reset')) >= 1)
    assert.match(
      await refused.text(),
      /API calls quota exceeded! The maximum allowed is 2 per minute/,
    )
  })

  test('the rate window resets after a minute', async () => {
    let time = 0
    const limited = createSmcSimulator({
      apiKey: KEY,
      apiSecret: SECRET,
      rateLimitPerMinute: 1,
      now: () => time,
    })
    const load = () =>
      limited.handler(
        new Request(`http://sim${LIST}`, { method: 'POST', headers: AUTH, body: '[["m","t"]]' }),
      )
    assert.equal((await load()).status, 200)
    assert.equal((await load()).status, 429)
    time = 60_000
    assert.equal((await load()).status, 200)
  })

  test('faults over HTTP: 503, slow, dropped connection, 429; reset clears them', async () => {
    const setFaults = (faults) =>
      fetch(`${base}/__smc/faults`, { method: 'POST', body: JSON.stringify(faults) }).then((r) =>
        r.json(),
      )

    assert.equal((await setFaults({ unavailable: true })).unavailable, true)
    assert.equal((await call(LIST, { body: [['m', 't']] })).status, 503)

    await setFaults({ unavailable: false, rateLimited: true })
    const limited = await call(LIST, { body: [['m', 't']] })
    assert.equal(limited.status, 429)
    assert.ok(limited.headers.get('x-ratelimit-reset'))

    await setFaults({ rateLimited: false, delayMs: 150 })
    const started = Date.now()
    assert.equal((await call(LIST, { body: [['m', 't']] })).status, 200)
    assert.ok(Date.now() - started >= 140)

    await setFaults({ delayMs: 0, dropConnection: true })
    await assert.rejects(call(LIST, { body: [['m', 't']] }), TypeError)

    assert.equal(
      (await setFaults({ delayMs: 'slow' })).message !== undefined,
      true,
      'bad fault values are refused',
    )
    await fetch(`${base}/__smc/reset`, { method: 'POST' })
    assert.deepEqual(await fetch(`${base}/__smc/faults`).then((r) => r.json()), {
      unavailable: false,
      rateLimited: false,
      delayMs: 0,
      dropConnection: false,
      resultCode: '',
      refuseWhole: '',
      maxCallRows: 0,
      unlisted: 0,
      echo: '',
      chaos: null,
    })
  })

  test('injected result codes answer HTTP 200 in the Swagger shape and store nothing', async () => {
    for (const resultCode of LOAD_MODEL.result_code.enum.filter((c) => !/Succeeded/.test(c))) {
      sim.setFaults({ resultCode })
      const answer = await call(LIST, { body: [['m-1', 'track']] })
      assert.equal(answer.status, 200)
      assert.equal(answer.body.result_code, resultCode)
      assertModel(answer.body, LOAD_MODEL)
      assert.deepEqual(answer.body.invalid_records, [])
    }
    assert.equal(sim.state().lists.segment_events.records.length, 0)
  })

  test('refuseWhole: a call holding an invalid row is refused whole, listing nothing; a clean call is stored', async () => {
    const bad = [
      ['m-1', 'track'],
      ['m-2', 'x'.repeat(21)],
    ]
    sim.setFaults({ refuseWhole: '400' })
    const refused = await call(LIST, { body: bad })
    assert.equal(refused.status, 400)
    assert.equal(refused.body.result_code, 'ValidationFailed')
    sim.setFaults({ refuseWhole: 'Failed' })
    const failed = await call(LIST, { body: bad })
    assert.equal(failed.status, 200)
    assert.equal(failed.body.result_code, 'Failed')
    assert.deepEqual(failed.body.invalid_records, [])
    assert.equal(sim.state().lists.segment_events.records.length, 0)
    assert.equal((await call(LIST, { body: [['m-3', 'track']] })).body.result_code, 'Succeeded')
    assert.throws(() => sim.setFaults({ refuseWhole: 'Sometimes' }), TypeError)
  })

  test('maxCallRows: larger calls answer 413 and store nothing', async () => {
    sim.setFaults({ maxCallRows: 1 })
    const answer = await call(LIST, {
      body: [
        ['m-1', 'track'],
        ['m-2', 'track'],
      ],
    })
    assert.equal(answer.status, 413)
    assert.equal(answer.body.result_code, 'Failed')
    assert.equal((await call(LIST, { body: [['m-3', 'track']] })).status, 200)
    assert.equal(sim.state().lists.segment_events.records.length, 1)
  })

  test('unlisted: failures counted but not listed, and those rows not stored', async () => {
    sim.setFaults({ unlisted: 2 })
    const answer = await call(LIST, {
      body: [
        ['m-1', 'x'.repeat(21)],
        ['m-2', 'track'],
        ['m-3', 'track'],
        ['m-4', 'track'],
      ],
    })
    assertModel(answer.body, LOAD_MODEL)
    assert.equal(answer.body.result_code, 'PartiallySucceeded')
    assert.equal(answer.body.number_of_failed_records, 3)
    assert.deepEqual(
      answer.body.invalid_records.map((r) => r.record_index),
      [0],
    )
    assert.deepEqual(
      sim.state().lists.segment_events.records.map((r) => r.fields.EVENT_ID),
      ['m-4'],
    )
  })

  test('echo: the X-ApiKey received comes back in the refusal, encoded as asked', async () => {
    const forms = {
      raw: `${KEY}:${SECRET}`,
      uri: encodeURIComponent(`${KEY}:${SECRET}`),
      base64: Buffer.from(`${KEY}:${SECRET}`).toString('base64'),
      base64url: Buffer.from(`x${SECRET}`).toString('base64url'),
      hex: Buffer.from(SECRET).toString('hex'),
    }
    for (const [echo, form] of Object.entries(forms)) {
      sim.setFaults({ echo })
      const answer = await call(LIST, { body: [['m-1', 'track']] })
      assert.equal(answer.status, 400)
      assert.ok(answer.body.message.includes(form), `${echo}: ${answer.body.message}`)
    }
  })

  test('chaos: faults drawn per call from a seed, the same for the same seed', async () => {
    const draw = async () => {
      sim.reset()
      sim.setFaults({ chaos: { seed: 7, rates: { unavailable: 0.3, serviceUnavailable: 0.3 } } })
      const outcomes = []
      for (let i = 0; i < 20; i++) {
        const answer = await call(LIST, { body: [[`m-${i}`, 'track']] })
        outcomes.push(`${answer.status} ${answer.body?.result_code ?? ''}`)
      }
      return outcomes
    }
    const first = await draw()
    assert.deepEqual(await draw(), first)
    assert.ok(first.includes('503 '), first.join())
    assert.ok(first.includes('200 ServiceUnavailable'), first.join())
    assert.ok(first.includes('200 Succeeded'), first.join())
    assert.throws(() => sim.setFaults({ chaos: { seed: 1, rates: { meteor: 1 } } }), TypeError)
  })

  test('state counts the calls in flight at once', async () => {
    sim.setFaults({ delayMs: 100 })
    await Promise.all([1, 2, 3].map((i) => call(LIST, { body: [[`m-${i}`, 'track']] })))
    assert.equal(sim.state().maxInFlight, 3)
    assert.equal(sim.state().inFlight, 0)
  })

  test('GET /__smc/state lists rows, members and recent calls without the credentials', async () => {
    await call(LIST, { body: [['m-1', 'track']] })
    const state = await fetch(`${base}/__smc/state`).then((r) => r.json())
    assert.deepEqual(Object.keys(state).sort(), [
      'calls',
      'faults',
      'inFlight',
      'lists',
      'log',
      'maxInFlight',
      'organization',
      'rateLimit',
    ])
    assert.equal(state.calls, 1)
    assert.equal(state.lists.segment_events.records[0].fields.EVENT_ID, 'm-1')
    const [entry] = state.log
    assert.equal(entry.auth, 'valid')
    assert.equal(entry.resultCode, 'Succeeded')
    assert.ok(entry.headerNames.includes('x-apikey'))
    assert.ok(!JSON.stringify(state).includes(SECRET))
  })
})
