// Unit tests of SMC's verdict (src/smc/smcVerdict.ts): what an answer means for the rows of its
// request, the wait before a retry and the split of a request refused whole included
// (docs/design.md#verdicts).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { importSource } from './importSource.mjs'

const { smcVerdict } = await importSource(`export { smcVerdict } from './src/smc/smcVerdict.ts'`)

const json = (value) => JSON.stringify(value)

test('no answer, 408, 429 and 5xx retry every row', () => {
  for (const status of [0, 408, 429, 500, 503]) {
    assert.equal(smcVerdict(status, '', 2).retry, true, `HTTP ${status}`)
  }
})

test('a 404 or NotFound retries and says the list is missing', () => {
  assert.deepEqual(smcVerdict(404, '', 1), { retry: true, retryAfterMs: undefined, notFound: true })
  const verdict = smcVerdict(200, json({ result_code: 'NotFound' }), 1)
  assert.equal(verdict.notFound, true)
})

test('the wait SMC asks for: X-RateLimit-Reset first, then Retry-After, in seconds or a date', () => {
  const headers = (values) => ({ get: (name) => values[name] ?? null })
  const wait = (values) => smcVerdict(429, '', 1, headers(values)).retryAfterMs
  assert.equal(wait({ 'X-RateLimit-Reset': '7', 'Retry-After': '3' }), 7000)
  assert.equal(wait({ 'Retry-After': '3' }), 3000)
  const inAMinute = new Date(Date.now() + 60_000).toUTCString()
  assert.ok(Math.abs(wait({ 'Retry-After': inAMinute }) - 60_000) < 2000)
  assert.equal(wait({ 'Retry-After': 'soon' }), undefined)
  assert.equal(wait({ 'Retry-After': '0' }), undefined)
  assert.equal(wait({}), undefined)
})

test('listed rows are refused, the others delivered when SMC vouches for them', () => {
  const text = json({
    result_code: 'PartiallySucceeded',
    number_of_failed_records: 1,
    invalid_records: [{ record_index: 1, validation_code: 'TooLong' }],
  })
  assert.deepEqual(smcVerdict(200, text, 3), {
    refused: { 1: 'TooLong' },
    retry: false,
    reason: 'SMC refused: TooLong',
  })
})

test('more failures counted than listed: the unlisted rows are retried', () => {
  const text = json({
    result_code: 'PartiallySucceeded',
    number_of_failed_records: 2,
    invalid_records: [{ record_index: 0, message: 'bad' }],
  })
  assert.equal(smcVerdict(200, text, 3).retry, true)
})

test('indices that name no row of the request are not listed', () => {
  const records = [-1, 1.5, '0', 3, 0, 0].map((index) => ({ record_index: index, message: 'm' }))
  const text = json({ result_code: 'Failed', invalid_records: records })
  assert.deepEqual(smcVerdict(400, text, 3).refused, { 0: 'm' })
})

test('refused as a whole: split for 400, 413 and 422, rejected otherwise', () => {
  for (const status of [400, 413, 422]) {
    assert.equal(smcVerdict(status, 'bad request', 2).split, true, `HTTP ${status}`)
  }
  for (const status of [401, 403, 200]) {
    const verdict = smcVerdict(status, json({ result_code: 'Failed' }), 2)
    assert.equal(verdict.split, false, `HTTP ${status}`)
    assert.equal(verdict.retry, undefined)
  }
})
