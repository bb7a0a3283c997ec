// What the relay shows its operator rather than browsers: Prometheus metrics on a listener of
// their own, away from the public port, and `/ready`, which a flood of probes must not turn into
// a flood of Redis commands (docs/relay-scale-out.md, "Metrics" and "Deployment").
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from '@redis/client'
import { startRelayServer } from '../../dist/relay.js'
import { startRedis } from '../redisServer.mjs'

const SMC = {
  smcAdminUrl: 'https://acme.slgnt.eu',
  organization: 'acme',
  apiKey: 'k',
  apiSecret: 's',
}
const TOKEN = 'metrics-token-Wd72pQ'

/** Starts a relay whose log entries are kept in `logs`. */
async function startLogged(options) {
  const logs = []
  const relay = await startRelayServer({
    ...SMC,
    port: 0,
    log: (entry) => logs.push(entry),
    ...options,
  })
  return { relay, logs }
}

/** Calls Redis ran for scripts (`EVALSHA`, and `EVAL` when a script was not loaded yet). */
async function scriptCalls(redisUrl) {
  const client = createClient({ url: redisUrl })
  await client.connect()
  try {
    const stats = await client.info('commandstats')
    return [...stats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)].reduce(
      (sum, [, calls]) => sum + Number(calls),
      0,
    )
  } finally {
    client.destroy()
  }
}

describe('relay probes', () => {
  test('metrics are served on a listener of their own, loopback by default; the public port answers /metrics 404; close() closes both', async () => {
    const { relay, logs } = await startLogged({
      serveMetrics: true,
      metricsToken: TOKEN,
      metricsPort: 0,
    })
    let closed = false
    try {
      assert.match(relay.metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
      assert.notEqual(new URL(relay.metricsUrl).port, new URL(relay.url).port)
      const scrape = await fetch(relay.metricsUrl, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      })
      assert.equal(scrape.status, 200)
      assert.match(await scrape.text(), /^selligent_relay_store_up 1$/m)
      assert.equal((await fetch(relay.metricsUrl)).status, 401)
      assert.equal((await fetch(new URL('/status', relay.metricsUrl))).status, 404)
      const publicMetrics = await fetch(`${relay.url}/metrics`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      })
      assert.equal(publicMetrics.status, 404)
      assert.doesNotMatch(await publicMetrics.text(), /selligent_relay_/)
      assert.deepEqual(
        logs.filter((entry) => entry.event === 'metrics_unprotected'),
        [],
      )
      await relay.close()
      closed = true
      await assert.rejects(fetch(relay.metricsUrl))
      await assert.rejects(fetch(`${relay.url}/status`))
    } finally {
      if (!closed) await relay.close()
    }
  })

  test('metrics without a token: one warning at start, naming where they are served and the token option', async () => {
    const { relay, logs } = await startLogged({
      serveMetrics: true,
      metricsPort: 0,
      metricsHost: '127.0.0.2',
    })
    try {
      assert.match(relay.metricsUrl, /^http:\/\/127\.0\.0\.2:\d+\/metrics$/)
      assert.equal((await fetch(relay.metricsUrl)).status, 200)
      const warnings = logs.filter((entry) => entry.event === 'metrics_unprotected')
      assert.equal(warnings.length, 1, JSON.stringify(logs))
      assert.equal(warnings[0].level, 'warn')
      assert.ok(warnings[0].message.includes(relay.metricsUrl), warnings[0].message)
      assert.ok(
        warnings[0].message.includes('metricsToken (RELAY_METRICS_TOKEN)'),
        warnings[0].message,
      )
    } finally {
      await relay.close()
    }
  })

  test('/ready answers from the shared store as seen at most a second ago: a flood of probes costs Redis one command a second', async () => {
    const redis = await startRedis()
    const { relay } = await startLogged({ redisUrl: redis.url })
    const ready = () => fetch(`${relay.url}/ready`).then((response) => response.status)
    const flood = () => Promise.all(Array.from({ length: 200 }, ready))
    try {
      const until = Date.now() + 5000
      while ((await ready()) !== 200) {
        assert.ok(Date.now() < until, 'ready once Redis answers')
        await sleep(50)
      }
      await sleep(1100)
      const before = await scriptCalls(redis.url)
      assert.ok((await flood()).every((status) => status === 200))
      await sleep(1100)
      assert.ok((await flood()).every((status) => status === 200))
      const calls = (await scriptCalls(redis.url)) - before
      assert.ok(calls >= 1 && calls <= 2, `${calls} script calls for 400 probes`)

      // Not ready once Redis is gone, within about the state's age.
      await redis.stop()
      const stopped = Date.now()
      while ((await ready()) !== 503) {
        assert.ok(Date.now() - stopped < 2500, 'not ready within 2.5 s of Redis stopping')
        await sleep(50)
      }
    } finally {
      await relay.close()
      await redis.stop()
    }
  })
})
