// The key and secret never leave the relay: not in answers, not in logs, not even when SMC
// echoes them back or the configuration that holds them is wrong.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createRelay, RelayConfigError } from '../../dist/relay.js'
import {
  API_KEY,
  API_SECRET,
  assertNoCredential,
  createHarness,
  eventRow,
  EVENTS_PATH,
  EVENTS_QUERY,
} from './harness.mjs'

let h
before(async () => {
  h = await createHarness()
})
after(() => h.close())

/** An SMC that repeats the header it received in its answer. */
const echoingSmc = (status, contentType) => async (_url, init) => {
  const key = new Headers(init.headers).get('x-apikey')
  const body = contentType.startsWith('application/json')
    ? JSON.stringify({
        result_code: 'Failed',
        message: `Bad key ${key}`,
        errors: [{ error_code: 'E', description: key }],
        n: 1,
      })
    : `Key ${key} refused`
  return new Response(body, { status, headers: { 'Content-Type': contentType } })
}

describe('relay secrets', () => {
  test("an SMC refusal echoing the credentials: the caller gets none of SMC's text, the log keeps it redacted, its JSON numbers intact", async () => {
    for (const [status, type] of [
      [400, 'application/json'],
      [422, 'text/plain'],
    ]) {
      const logs = []
      const relay = h.makeRelay({ fetch: echoingSmc(status, type), log: (e) => logs.push(e) })
      const sent = await h.sendEvents([eventRow('m-1')], { via: relay })
      assert.equal(sent.status, status)
      assert.ok(!/Bad key|Key /.test(sent.text), sent.text)
      const refusal = logs.find((entry) => entry.event === 'smc_refused')
      assert.match(refusal.answer, /\[redacted\]/)
      if (type === 'application/json') assert.equal(JSON.parse(refusal.answer).n, 1)
      // This relay logs apart from the harness, whose scan at the end does not see these lines.
      for (const entry of logs) assertNoCredential(JSON.stringify(entry))
    }
  })

  for (const echo of ['raw', 'uri', 'base64', 'base64url', 'hex']) {
    test(`SMC echoing the credentials (${echo}, base64 at each byte offset): none reaches the caller or the log`, async () => {
      const logs = []
      const relay = h.makeRelay({ log: (e) => logs.push(e) })
      h.sim.setFaults({ echo })
      const sent = await h.sendEvents([eventRow('m-1')], { via: relay })
      h.sim.setFaults({ echo: '' })
      assert.equal(sent.status, 400)
      assertNoCredential(sent.text)
      const refusal = logs.find((entry) => entry.event === 'smc_refused')
      assert.match(refusal.answer, /Unknown credentials: /)
      assert.match(refusal.answer, /\[redacted\]/)
      for (const entry of logs) assertNoCredential(JSON.stringify(entry))
    })
  }

  test('a credential SMC writes with a JSON escape (\\u0073…) is cut out all the same', async () => {
    const escaped = `\\u${API_SECRET.charCodeAt(0).toString(16).padStart(4, '0')}${API_SECRET.slice(1)}`
    const logs = []
    const relay = h.makeRelay({
      log: (e) => logs.push(e),
      fetch: async () =>
        new Response(
          `{"result_code":"PartiallySucceeded","message":"bad key ${escaped}",` +
            '"number_of_failed_records":1,"invalid_records":[{"record_index":0,' +
            `"field_name":null,"message":"key ${escaped} refused","validation_code":"Unknown"}]}`,
          { status: 200, headers: { 'Content-Type': 'application/json' } },
        ),
    })
    const sent = await h.sendEvents([eventRow('m-1'), eventRow('m-2')], { via: relay })
    assert.equal(sent.status, 200)
    assert.equal(sent.body.invalid_records[0].message, 'key [redacted] refused')
    assertNoCredential(sent.text)
    for (const entry of logs) assertNoCredential(JSON.stringify(entry))
  })

  test('an admin URL carrying credentials: the configuration error shows neither', () => {
    for (const [apiKey, apiSecret] of [
      [API_KEY, API_SECRET],
      ['other-key', 'other-secret'],
    ]) {
      const error = (() => {
        try {
          createRelay({
            smcAdminUrl: `https://${API_KEY}:${API_SECRET}@acme.slgnt.eu`,
            organization: 'acme',
            apiKey,
            apiSecret,
          })
        } catch (e) {
          return e
        }
      })()
      assert.ok(error instanceof RelayConfigError)
      assert.match(error.message, /smcAdminUrl \(SMC_ADMIN_URL\) must be the admin URL/)
      assertNoCredential(error.message)
    }
  })

  test('a credential put in another option is not shown with that option’s problem', () => {
    try {
      createRelay({
        smcAdminUrl: 'https://acme.slgnt.eu',
        organization: 'acme',
        apiKey: API_KEY,
        apiSecret: API_SECRET,
        eventsList: API_SECRET,
        budgetPerMinute: `${API_KEY}:${API_SECRET}`,
      })
      assert.fail('accepted')
    } catch (error) {
      assert.ok(error instanceof RelayConfigError, String(error))
      assert.equal(error.problems.length, 1)
      assertNoCredential(error.message)
    }
  })

  test('a scenario of every kind, then every answer and log line is scanned', async () => {
    h.sim.setFaults({ unavailable: true })
    await h.sendEvents([eventRow('m-1')])
    h.sim.setFaults({ unavailable: false })
    await h.sendEvents([eventRow('m-2')])
    await h.sendEvents([['bad']])
    await h.sendEvents([eventRow('m-3')], { headers: { Origin: 'https://evil.example' } })
    await h.send(`${EVENTS_PATH}?${EVENTS_QUERY}&create_segment_name=x`, {
      body: [eventRow('m-4')],
    })
    await h.sendEvents([eventRow('m-5')], {
      via: h.makeRelay({ budgetPerMinute: 1, fetch: echoingSmc(500, 'text/plain') }),
    })
    h.assertNoSecrets()
  })

  test('configuration errors never show the key or secret', () => {
    const error = (() => {
      try {
        createRelay({
          smcAdminUrl: 'ftp://x',
          organization: '',
          apiKey: `${API_KEY}:x`,
          apiSecret: `${API_SECRET}\n`,
        })
      } catch (e) {
        return e
      }
    })()
    assert.ok(error instanceof RelayConfigError)
    assert.ok(
      !error.message.includes(API_KEY) && !error.message.includes(API_SECRET),
      error.message,
    )
    assert.match(error.message, /apiKey \(SMC_API_KEY\) must not contain ":"/)
    assert.match(error.message, /apiSecret \(SMC_API_SECRET\) must not contain line breaks/)
  })
})
