// Unit tests of the pure modules shared by the plugin and the relay: the JSON cells
// (src/plugin/toJsonText.ts), the event columns (src/smc/columns.ts), the relay's SMC budget
// (src/relay/limits/TokenBucket.ts) and its split of a merged answer (src/relay/smcCalls/splitResult.ts).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { importSource } from './importSource.mjs'

const { toJsonText, MAX_STRING, resolveColumns, STANDARD_COLUMNS, TokenBucket, splitResult } =
  await importSource(`
    export { toJsonText, MAX_STRING } from './src/plugin/toJsonText.ts'
    export { resolveColumns, STANDARD_COLUMNS } from './src/smc/columns.ts'
    export { TokenBucket } from './src/relay/limits/TokenBucket.ts'
    export { splitResult } from './src/relay/smcCalls/splitResult.ts'
  `)

test('toJsonText: what JSON holds is written as JSON.stringify writes it', () => {
  const value = { a: [1, 'é', null], b: { c: true }, d: new Date(0) }
  assert.equal(toJsonText(value), JSON.stringify(value))
  assert.equal(toJsonText(undefined), '')
})

test('toJsonText: cycles, BigInt, __proto__ keys, long strings and throwing getters made safe', () => {
  const cycle = { n: 1 }
  cycle.self = cycle
  assert.equal(toJsonText(cycle), '{"n":1,"self":"[Circular]"}')
  assert.equal(toJsonText({ big: 10n }), '{"big":"10"}')
  assert.equal(toJsonText(JSON.parse('{"__proto__":{"x":1},"y":2}')), '{"y":2}')
  const long = JSON.parse(toJsonText({ s: 'x'.repeat(MAX_STRING + 10) }))
  assert.equal(long.s.length, MAX_STRING)
  const getter = {
    ok: 1,
    get bad() {
      throw new Error('no')
    },
  }
  assert.equal(toJsonText({ getter }), '{}')
  let deep = { leaf: 1 }
  for (let i = 0; i < 9; i++) deep = { deep }
  assert.match(toJsonText(deep), /"\[Truncated\]"/)
})

test('resolveColumns: every standard column by default, renamed or dropped on request', () => {
  const problems = []
  const problem = (key) => problems.push(key)
  assert.deepEqual(
    resolveColumns({}, problem).map(([, name]) => name),
    [...STANDARD_COLUMNS],
  )
  const columns = resolveColumns({ CONTEXT: null, USER_ID: 'CUSTOMER_ID' }, problem)
  assert.equal(columns.length, STANDARD_COLUMNS.length - 1)
  assert.deepEqual(columns[3], [3, 'CUSTOMER_ID'])
  assert.deepEqual(problems, [])
})

test('resolveColumns: unknown columns, EVENT_ID dropped and names used twice are problems', () => {
  const problems = []
  resolveColumns({ NOPE: 'X', EVENT_ID: null, USER_ID: 'EVENT_TYPE' }, (key) => problems.push(key))
  assert.deepEqual(problems, ['NOPE', 'EVENT_ID', 'USER_ID'])
})

test('TokenBucket: a burst at once, then refilled over time; a pause empties it', () => {
  let now = 0
  const bucket = new TokenBucket(600, () => now)
  // A tenth of the budget at once.
  for (let i = 0; i < 60; i++) assert.equal(bucket.take().taken, true)
  const next = bucket.take()
  assert.equal(next.taken, false)
  // (600 - 60) calls a minute: one every ~111 ms.
  assert.equal(next.waitMs, 112)
  now += 112
  assert.equal(bucket.take().taken, true)
  now += 60_000
  bucket.pause(5000)
  assert.equal(bucket.left(), 0)
  assert.equal(bucket.take().waitMs, 5000)
  assert.equal(bucket.take(5000).taken, true)
  // The pause started the bucket empty: after it, only what refilled meanwhile is left (5 s of
  // 540 calls a minute, less the call taken ahead).
  now += 5000
  assert.equal(bucket.left(), 44)
})

test('splitResult: each caller hears of its own rows only, re-indexed to its body', () => {
  const answer = {
    result_code: 'PartiallySucceeded',
    number_of_inserted_records: 3,
    invalid_records: [
      { record_index: 1, field_name: 'F', message: 'm1', validation_code: 'V', extra: 'x' },
      { record_index: 3, field_name: 'F', message: 'm3', validation_code: 'V' },
      { record_index: 4, message: 'not listed by the verdict' },
    ],
  }
  const slices = [
    { offset: 0, count: 2 },
    { offset: 2, count: 2 },
    { offset: 4, count: 1 },
  ]
  const record = (index, message) => ({
    record_index: index,
    field_name: 'F',
    message,
    validation_code: 'V',
  })
  assert.deepEqual(splitResult(answer, slices, { 1: 'V', 3: 'V' }), [
    {
      result_code: 'PartiallySucceeded',
      number_of_failed_records: 1,
      invalid_records: [record(1, 'm1')],
    },
    {
      result_code: 'PartiallySucceeded',
      number_of_failed_records: 1,
      invalid_records: [record(1, 'm3')],
    },
    { result_code: 'Succeeded', number_of_failed_records: 0, invalid_records: [] },
  ])
  assert.equal(splitResult('Service Unavailable', slices, {}), undefined)
  assert.equal(splitResult({ result: 1 }, slices, {}), undefined)
})
