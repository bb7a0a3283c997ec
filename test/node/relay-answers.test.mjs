// What an answer reveals (docs/relay.md#what-an-answer-reveals): a browser hears whether its own
// rows were stored, and nothing about what SMC holds or about anyone else's rows; and every
// answer is the relay's own JSON, whatever SMC answered.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { eventRow, SEGMENT_PATH, SEGMENT_QUERY, useHarness } from './harness.mjs'

const h = useHarness()

/** Everything a browser reads of an answer (src/smc/smcVerdict.ts). */
const VERDICT_KEYS = ['result_code', 'number_of_failed_records', 'invalid_records']

/** An SMC that answers every call with `body` as `contentType`. */
const stubSmc =
  (status, body, contentType = 'application/json') =>
  async () =>
    new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: { 'Content-Type': contentType },
    })

const addMember = (mail, via) =>
  h.send(`${SEGMENT_PATH}/data/load?${SEGMENT_QUERY}`, { body: [[mail]], via })
const removeMember = (mail, via) =>
  h.send(`${SEGMENT_PATH}/data?${SEGMENT_QUERY}`, { method: 'DELETE', body: [[mail]], via })

describe('what an answer reveals', () => {
  test('an answer does not tell whether a key was already in the list', async () => {
    const first = await addMember('jane@example.com')
    const again = await addMember('jane@example.com')
    assert.equal(first.status, 200)
    assert.deepEqual(first.body, again.body, 'inserted and updated read alike')
    assert.deepEqual(Object.keys(first.body), VERDICT_KEYS)
  })

  test('an answer does not tell whether someone was in a segment', async () => {
    await addMember('jane@example.com')
    const member = await removeMember('jane@example.com')
    const stranger = await removeMember('nobody@example.com')
    assert.equal(member.status, 200)
    assert.deepEqual(member.body, stranger.body, 'deleted and not found read alike')
    assert.deepEqual(member.body, {
      result_code: 'Succeeded',
      number_of_failed_records: 0,
      invalid_records: [],
    })
  })

  test("in a merged call, SMC's message and errors reach no caller; each gets only its own invalid rows", async () => {
    const smcAnswer = {
      result_code: 'PartiallySucceeded',
      message: 'Row 1 (alice@example.com) could not be stored',
      errors: [{ error_code: 'E', description: 'alice@example.com exists as another contact' }],
      number_of_inserted_records: 1,
      number_of_updated_records: 0,
      number_of_failed_records: 1,
      invalid_records: [
        {
          record_index: 1,
          field_name: 'MAIL',
          message: 'alice@example.com is not valid',
          validation_code: 'InvalidType',
          extra: 'alice@example.com',
        },
      ],
    }
    const relay = h.makeRelay({ coalesceWindowMs: 30, fetch: stubSmc(200, smcAnswer) })
    const [bob, alice] = await Promise.all([
      addMember('bob@example.com', relay),
      addMember('alice@example.com', relay),
    ])
    assert.equal(bob.status, 200)
    assert.deepEqual(bob.body, {
      result_code: 'Succeeded',
      number_of_failed_records: 0,
      invalid_records: [],
    })
    assert.ok(!bob.text.includes('alice'), bob.text)
    assert.deepEqual(alice.body, {
      result_code: 'Failed',
      number_of_failed_records: 1,
      invalid_records: [
        {
          record_index: 0,
          field_name: 'MAIL',
          message: 'alice@example.com is not valid',
          validation_code: 'InvalidType',
        },
      ],
    })
  })

  test("a whole refusal in another type (text/html echoing a cell) becomes the relay's JSON", async () => {
    const page = '<html><img src=x onerror=alert(document.cookie)></html>'
    const relay = h.makeRelay({ fetch: stubSmc(400, page, 'text/html; charset=utf-8') })
    const sent = await h.sendEvents([eventRow('m-1')], { via: relay })
    assert.equal(sent.status, 400, 'the refusal stands')
    assert.equal(sent.headers.get('content-type'), 'application/json; charset=utf-8')
    assert.equal(sent.headers.get('x-content-type-options'), 'nosniff')
    assert.ok(!sent.text.includes('<img'), sent.text)
    assert.equal(sent.body.result_code, 'Failed')
    assert.equal(sent.body.errors[0].error_code, 'ERR_SMC_REFUSED')
  })

  test("a whole refusal in JSON keeps SMC's result code and nothing else of its body", async () => {
    const relay = h.makeRelay({
      fetch: stubSmc(400, {
        result_code: 'ValidationFailed',
        message: 'Field MAIL: value alice@example.com already exists',
        errors: null,
        invalid_records: [],
      }),
    })
    const sent = await h.sendEvents([eventRow('m-1'), eventRow('m-2')], { via: relay })
    assert.equal(sent.status, 400)
    assert.deepEqual(sent.body, {
      result_code: 'ValidationFailed',
      number_of_failed_records: 2,
      invalid_records: [],
    })
    const refusal = h.logs.findLast((entry) => entry.event === 'smc_refused')
    assert.match(refusal.answer, /already exists/, 'the log keeps the detail')
  })

  test('every answer says it is JSON and must not be sniffed: stored, refused at the gate, status', async () => {
    const answers = [
      await h.sendEvents([eventRow('m-1')]),
      await h.sendEvents([eventRow('m-2')], { headers: { Origin: 'https://evil.example' } }),
      await h.send('/nowhere'),
      await h.send('/status', { method: 'GET' }),
    ]
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 403, 404, 200],
    )
    for (const answer of answers) {
      assert.equal(answer.headers.get('content-type'), 'application/json; charset=utf-8')
      assert.equal(answer.headers.get('x-content-type-options'), 'nosniff')
    }
  })
  test("SMC's answer is parsed once, for its verdict, its result code and each caller's share", async () => {
    const MARKER = 'parsed-once marker'
    const answers = [
      // JSON: judged, logged and split from the one parsed value.
      [
        stubSmc(200, {
          result_code: 'PartiallySucceeded',
          message: MARKER,
          number_of_failed_records: 1,
          invalid_records: [{ record_index: 1, validation_code: 'V', message: 'bad' }],
        }),
        200,
      ],
      // Not JSON: one failed parse says so.
      [stubSmc(400, `<html>${MARKER}</html>`, 'text/html'), 400],
    ]
    for (const [fetch, status] of answers) {
      // The credentials in the relay's secrets make it redact, which reads the JSON too.
      const relay = h.makeRelay({ fetch })
      const parse = JSON.parse
      let parsedAnswers = 0
      JSON.parse = (text, ...rest) => {
        if (typeof text === 'string' && text.includes(MARKER)) parsedAnswers++
        return parse(text, ...rest)
      }
      try {
        const sent = await h.sendEvents([eventRow('m-1'), eventRow('m-2')], { via: relay })
        assert.equal(sent.status, status)
      } finally {
        JSON.parse = parse
      }
      assert.equal(parsedAnswers, 1, `HTTP ${status}`)
    }
  })
  test('a refused row SMC lists as a lone record, not in an array, is refused to its own caller', async () => {
    const relay = h.makeRelay({
      coalesceWindowMs: 20,
      fetch: stubSmc(200, {
        result_code: 'PartiallySucceeded',
        number_of_failed_records: 1,
        invalid_records: { record_index: 1, validation_code: 'V', message: 'bad' },
      }),
    })
    const [first, second] = await Promise.all([
      h.sendEvents([eventRow('m-1')], { via: relay }),
      h.sendEvents([eventRow('m-2')], { via: relay }),
    ])
    assert.deepEqual(first.body, {
      result_code: 'Succeeded',
      number_of_failed_records: 0,
      invalid_records: [],
    })
    assert.equal(second.body.result_code, 'Failed')
    assert.equal(second.body.number_of_failed_records, 1)
    assert.deepEqual(
      second.body.invalid_records.map((record) => record.record_index),
      [0],
    )
  })
})
