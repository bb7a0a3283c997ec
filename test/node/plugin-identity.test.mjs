// The plugin's `identityToken` in real Chromium, against the real relay with signed identity on
// (docs/relay.md#signed-identity): a group call carries the signed-in visitor's token, so the
// relay changes that visitor's membership and no one else's; without a token the call is not sent.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { after, before, beforeEach, test } from 'node:test'
import { chromium } from 'playwright-core'
import { CHROME_ARGS, CHROME_PATH } from '../../scripts/chromium.mjs'
import { startRelayServer } from '../../dist/relay.js'
import { createTestSimulator, ORGANIZATION, smcOptions } from './harness.mjs'

const SECRET = 'identity-secret-0123456789abcdef-browser'
const ROOT = new URL('../../', import.meta.url)
const FILES = {
  '/analytics.js': 'node_modules/@segment/analytics-next/dist/umd/index.js',
  '/': 'test/fixtures/blank.html',
}

const sim = createTestSimulator()
const logs = []
let relay
let site
let siteUrl
let browser
let page

/** A token for `subject`, minted as the relay's docs mint it. */
async function identityToken(subject) {
  const docs = await readFile(new URL('docs/relay.md', ROOT), 'utf8')
  const code = /```js\n([\s\S]*?)\n```/.exec(docs.slice(docs.indexOf('<!-- identity-token:')))[1]
  const { identityToken: mint } = await import(`data:text/javascript,${encodeURIComponent(code)}`)
  return mint(SECRET, subject)
}

before(async () => {
  const smc = await sim.listen()
  // The site: the test page, analytics-next's UMD build and the plugin as built.
  site = createServer(async (req, res) => {
    const path = req.url.split('?')[0]
    const file = FILES[path] ?? (path.startsWith('/dist/') ? path.slice(1) : undefined)
    if (!file) return void res.writeHead(404).end()
    const type = file.endsWith('.html') ? 'text/html' : 'text/javascript'
    res.writeHead(200, { 'Content-Type': type }).end(await readFile(new URL(file, ROOT)))
  })
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve))
  siteUrl = `http://127.0.0.1:${site.address().port}`
  relay = await startRelayServer({
    ...smcOptions(smc.url),
    segments: ['USERS_SEGMENT/Newsletter:MAIL'],
    identitySecrets: [SECRET],
    allowedOrigins: [siteUrl],
    coalesceWindowMs: 5,
    port: 0,
    log: (entry) => logs.push(entry),
  })
  browser = await chromium.launch({ executablePath: CHROME_PATH, args: CHROME_ARGS })
})

beforeEach(async () => {
  sim.reset()
  logs.length = 0
  await page?.close()
  page = await browser.newPage()
  await page.goto(siteUrl)
  await page.addScriptTag({ url: '/analytics.js' })
})

after(async () => {
  await browser?.close()
  site?.close()
  await relay?.close()
  await sim.close()
})

/**
 * In the page: analytics-next with the plugin, `identityToken` a function reading
 * `window.identityToken`; identifies `userId` with `token` in place, makes a group call into the
 * Newsletter segment, and waits until the plugin holds no row.
 */
function groupCall(userId, token) {
  return page.evaluate(
    async ({ relayUrl, userId, token, organization }) => {
      window.identityToken = token
      const { selligentPlugin } = await import('/dist/index.js')
      const plugin = selligentPlugin({
        organization,
        allowedEvents: [],
        proxyUrl: relayUrl,
        sendGroupEvents: true,
        flushInterval: 0,
        persist: false,
        identityToken: () => window.identityToken,
      })
      const [analytics] = await window.AnalyticsNext.AnalyticsBrowser.load(
        { writeKey: 'identity-test', cdnSettings: { integrations: {} }, plugins: [plugin] },
        { disableClientPersistence: true, integrations: { 'Segment.io': false } },
      )
      await analytics.identify(userId)
      await analytics.group('Newsletter', { userlist: 'USERS_SEGMENT', matchkey: 'MAIL' })
      await plugin.flush()
      // flush() sends; the answers may come later (a row still queued after 5 s fails the asserts).
      const end = Date.now() + 5000
      while (plugin.stats.queued > 0 && Date.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return plugin.stats
    },
    { relayUrl: relay.url, userId, token, organization: ORGANIZATION },
  )
}

const members = () =>
  sim.state().lists.USERS_SEGMENT.segments.Newsletter.map((member) => member.fields.MAIL)
const segmentCalls = () => sim.state().log.filter((call) => call.path.includes('/segments/'))

test('a group call carries the signed-in visitor’s token: that visitor joins the segment', async () => {
  await groupCall('jane@example.com', await identityToken('jane@example.com'))
  assert.deepEqual(members(), ['jane@example.com'])
  const [call] = segmentCalls()
  assert.equal(call.query, 'keyFields=MAIL&fields=MAIL', 'the token is never forwarded to SMC')
})

test('a token for someone else changes no one’s membership', async () => {
  await groupCall('bob@example.com', await identityToken('jane@example.com'))
  assert.deepEqual(members(), [])
  assert.deepEqual(segmentCalls(), [])
  assert.ok(
    logs.some((entry) => entry.code === 'ERR_IDENTITY_MISMATCH'),
    JSON.stringify(logs),
  )
})

test('no token (nobody signed in): the group call is not sent at all', async () => {
  const stats = await groupCall('jane@example.com', undefined)
  assert.deepEqual(members(), [])
  assert.ok(!logs.some((entry) => entry.event === 'rejected'), JSON.stringify(logs))
  assert.equal(stats.requests, 1, 'only the identify row was sent')
  assert.equal(sim.state().lists.segment_events.records.length, 1)
})
