// docs/relay.md's nginx location block and relay settings, read from the docs and run as written:
// a real nginx (Debian's nginx-light) in front of the `selligent-relay` CLI, so that the docs
// cannot drift from what works. Clients connect from loopback addresses of their own (127.0.0.x),
// so that the relay can tell them apart only by what nginx says about them.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { startNginx } from '../nginxServer.mjs'
import {
  API_KEY,
  API_SECRET,
  eventRow,
  EVENTS_PATH,
  EVENTS_QUERY,
  ORGANIZATION,
  rawRequest,
  runCli,
  useSimulator,
} from './harness.mjs'

const DOCS = readFileSync(new URL('../../docs/relay.md', import.meta.url), 'utf8')
const MARKER = '<!-- nginx-location:'
/** Where docs/relay.md's block has nginx send requests: the CLI's default address. */
const DOCUMENTED_UPSTREAM = 'http://127.0.0.1:8787/'
const RATE_LIMIT = 3

/** The fenced nginx block right after the marker, and the relay settings in the paragraph before it. */
function documented() {
  const at = DOCS.indexOf(MARKER)
  assert.ok(at >= 0, `docs/relay.md has no ${MARKER} marker`)
  const location = /^```nginx\n([\s\S]*?)^```/m.exec(DOCS.slice(at))?.[1]
  assert.ok(location?.includes(DOCUMENTED_UPSTREAM), `no nginx block after the marker`)
  const before = DOCS.slice(0, at).trimEnd()
  const paragraph = before.slice(before.lastIndexOf('\n\n'))
  const settings = /`((?:RELAY_\w+=\S+ ?)+)`/.exec(paragraph)?.[1]
  assert.ok(settings, 'no relay settings in the paragraph before the nginx block')
  const env = Object.fromEntries(settings.split(' ').map((setting) => setting.split('=')))
  return { location, env }
}

const smc = useSimulator()
let relay
let nginx

/**
 * Sends a batch of one row to `/smc/…` through nginx, from the loopback address `from`, as a page
 * of https://shop.example does (`Host` and `Origin` as a browser sends them).
 * @param {string} from @param {string} id @param {Record<string, string>} [headers]
 */
function sendThroughNginx(from, id, headers = {}) {
  return rawRequest({
    port: nginx.port,
    localAddress: from,
    path: `/smc${EVENTS_PATH}?${EVENTS_QUERY}`,
    headers: {
      Host: 'shop.example',
      Origin: 'https://shop.example',
      'Content-Type': 'text/plain',
      ...headers,
    },
    body: JSON.stringify([eventRow(id)]),
  })
}

describe("docs/relay.md's nginx block, in a real nginx", () => {
  before(async () => {
    const { location, env } = documented()
    relay = runCli({
      ...env,
      SMC_ADMIN_URL: smc.url,
      SMC_ORGANIZATION: ORGANIZATION,
      SMC_API_KEY: API_KEY,
      SMC_API_SECRET: API_SECRET,
      RELAY_RATE_LIMIT_PER_CLIENT: String(RATE_LIMIT),
      RELAY_COALESCE_WINDOW_MS: '5',
      PORT: '0',
    })
    const url = await relay.listening
    nginx = await startNginx(location.replace(DOCUMENTED_UPSTREAM, `${url}/`))
  })
  after(async () => {
    await nginx?.stop()
    if (relay) {
      relay.child.kill('SIGTERM')
      if (relay.child.exitCode === null) await once(relay.child, 'exit')
    }
  })

  test('a page of the site itself is same-origin: its rows reach SMC', async () => {
    const sent = await sendThroughNginx('127.0.0.2', 'same-origin')
    assert.equal(sent.status, 200, sent.text)
    assert.equal(JSON.parse(sent.text).result_code, 'Succeeded')
    const records = smc.sim.state().lists.segment_events.records
    assert.deepEqual(
      records.map((record) => record.fields.EVENT_ID),
      ['same-origin'],
    )
  })

  test('a client forging X-Forwarded-For stays one client; the relay tells real clients apart', async () => {
    const statuses = []
    for (const [i, forged] of ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4', '5.5.5.5'].entries()) {
      const sent = await sendThroughNginx('127.0.0.3', `forged-${i}`, {
        'X-Forwarded-For': `${forged}, 10.0.0.${i}`,
      })
      statuses.push(sent.status)
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429])
    const other = await sendThroughNginx('127.0.0.4', 'another-client')
    assert.equal(other.status, 200, 'another client is counted on its own: the relay sees it')
  })
})
