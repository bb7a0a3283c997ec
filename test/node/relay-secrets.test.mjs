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
  test('an SMC answer echoing the credentials is redacted, its JSON numbers intact', async () => {
    for (const [status, type] of [
      [400, 'application/json'],
      [422, 'text/plain'],
    ]) {
      const relay = h.makeRelay({ fetch: echoingSmc(status, type) })
      const sent = await h.sendEvents([eventRow('m-1')], { via: relay })
      assert.equal(sent.status, status)
      assert.match(sent.text, /\[redacted\]/)
      if (type === 'application/json') assert.equal(sent.body.n, 1)
    }
  })

  for (const echo of ['raw', 'uri', 'base64', 'base64url', 'hex']) {
    test(`SMC echoing the credentials (${echo}, base64 at each byte offset): none reaches the caller`, async () => {
      h.sim.setFaults({ echo })
      const sent = await h.sendEvents([eventRow('m-1')])
      assert.equal(sent.status, 400)
      assert.match(sent.body.message, /^Unknown credentials: /)
      assert.match(sent.text, /\[redacted\]/)
      assertNoCredential(sent.text)
      h.sim.setFaults({ echo: '' })
    })
  }

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
