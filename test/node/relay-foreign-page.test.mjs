// A page on another origin, in real Chromium, calling the relay the way a browser lets any page
// call it: a CORS-simple text/plain POST, no preflight, the answer unread. Its visitors' browsers
// must not be able to store rows, whatever request target the page writes.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, test } from 'node:test'
import { chromium } from 'playwright-core'
import { CHROME_ARGS, CHROME_PATH } from '../../scripts/chromium.mjs'
import { startRelayServer } from '../../dist/relay.js'
import { createTestSimulator, eventRow, EVENTS_PATH, EVENTS_QUERY, smcOptions } from './harness.mjs'

const sim = createTestSimulator()
let relay
let foreign
let foreignUrl
let browser

before(async () => {
  const smc = await sim.listen()
  relay = await startRelayServer({
    ...smcOptions(smc.url),
    coalesceWindowMs: 5,
    port: 0,
    log: () => {},
  })
  foreign = createServer((_, res) =>
    res
      .writeHead(200, { 'Content-Type': 'text/html' })
      .end('<!doctype html><title>foreign</title>'),
  )
  await new Promise((resolve) => foreign.listen(0, '127.0.0.1', resolve))
  foreignUrl = `http://127.0.0.1:${foreign.address().port}`
  browser = await chromium.launch({ executablePath: CHROME_PATH, args: CHROME_ARGS })
})

after(async () => {
  await browser?.close()
  foreign?.close()
  await relay?.close()
  await sim.close()
})

test('a foreign page cannot store rows through the relay, not even by naming its own host in the target', async () => {
  const page = await browser.newPage()
  await page.goto(foreignUrl)
  const foreignHost = new URL(foreignUrl).host
  const targets = [
    `${relay.url}${EVENTS_PATH}?${EVENTS_QUERY}`,
    // The path starts with `//` and the foreign page's own host: a relay that resolved it as a
    // URL would take the foreign origin for its own.
    `${relay.url}//${foreignHost}${EVENTS_PATH}?${EVENTS_QUERY}`,
  ]
  const body = JSON.stringify([eventRow('foreign-1')])
  const sent = await page.evaluate(
    ({ targets, body }) =>
      Promise.all(
        targets.map((target) =>
          fetch(target, {
            method: 'POST',
            mode: 'no-cors',
            headers: { 'Content-Type': 'text/plain' },
            body,
          }).then(
            () => 'sent',
            (error) => String(error),
          ),
        ),
      ),
    { targets, body },
  )
  assert.deepEqual(sent, ['sent', 'sent'], 'both requests left the browser')
  assert.equal(sim.calls, 0, 'nothing reached SMC')
  assert.equal(sim.state().lists.segment_events.records.length, 0)
})
