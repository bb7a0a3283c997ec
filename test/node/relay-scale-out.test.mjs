// Several relay instances behind one load balancer share one SMC budget, SMC's pause and the
// per-client limit through a real Redis (docs/relay-scale-out.md): three CLI processes in front of
// the SMC simulator, clients that retry as the plugin does, an instance killed and Redis stopped
// mid-run.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from '@redis/client'
import {
  API_KEY,
  API_SECRET,
  assertNoCredential,
  eventRow,
  EVENTS_PATH,
  EVENTS_QUERY,
  ORGANIZATION,
  runCli,
  useSimulator,
} from './harness.mjs'
import { freePort } from '../../scripts/freePort.mjs'
import { startRedis } from '../redisServer.mjs'

/** Every SMC call the simulator received: when it arrived, its rows and status. */
const calls = []
const smc = useSimulator({
  onCall: (record) =>
    calls.push({ at: Date.parse(record.at), rows: record.rows, status: record.status }),
})
const { sim } = smc

const EVENTS = `${EVENTS_PATH}?${EVENTS_QUERY}`
const METRICS_TOKEN = 'metrics-token-Hq3vX9'

/** Starts `count` relays through the CLI with one environment; resolves once all listen. */
async function startRelays(count, env) {
  const relays = Array.from({ length: count }, () =>
    runCli({
      SMC_ADMIN_URL: smc.url,
      SMC_ORGANIZATION: ORGANIZATION,
      SMC_API_KEY: API_KEY,
      SMC_API_SECRET: API_SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      RELAY_INSTANCES: String(count),
      RELAY_COALESCE_WINDOW_MS: '20',
      RELAY_METRICS: 'true',
      RELAY_METRICS_TOKEN: METRICS_TOKEN,
      RELAY_METRICS_PORT: '0',
      ...env,
    }),
  )
  for (const relay of relays) {
    relay.url = await relay.listening
    relay.metricsUrl = /; metrics on (http:\/\/\S+)/.exec(relay.output.stdout)?.[1]
  }
  return relays
}

async function stopAll(relays) {
  await Promise.all(
    relays.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await once(child, 'exit')
    }),
  )
}

/**
 * SMC counts calls per minute; the relay's promise is stronger: over any stretch of the run, at
 * most the burst (a tenth of the budget) plus the budget's rate over that stretch. A second is
 * added to each stretch for a call to travel from its token to SMC on a loaded machine.
 */
function assertWithinBudget(perMinute) {
  const burst = Math.max(1, Math.floor(perMinute / 10))
  const perMs = (perMinute - burst) / 60_000
  const times = calls.map((call) => call.at).sort((a, b) => a - b)
  for (let i = 0; i < times.length; i++) {
    for (let j = i; j < times.length; j++) {
      const allowed = burst + perMs * (times[j] - times[i] + 1000)
      assert.ok(
        j - i + 1 <= allowed,
        `${j - i + 1} SMC calls within ${times[j] - times[i]} ms; at most ${allowed.toFixed(1)} allowed`,
      )
    }
  }
}

/**
 * Clients as the plugin behaves: each sends batches of new rows one after another until `until`,
 * then only what it still holds; an answer other than 200 keeps the batch, which is sent again
 * after the server's hint (capped at 2 s to keep the run short: sooner only presses the budget
 * harder) or, without an answer, 200 ms. Attempts go round the relays still alive, as a load
 * balancer's would. Resolves with what the clients saw.
 */
async function runClients({ relays, clients, rows, until, deadline }) {
  const seen = { acknowledged: new Set(), sent: new Set(), answers: [], unexpected: [] }
  let attempt = 0
  const client = async (c) => {
    for (let batch = 0; Date.now() < until; batch++) {
      const ids = Array.from({ length: rows }, (_, r) => `c${c}-b${batch}-r${r}`)
      ids.forEach((id) => seen.sent.add(id))
      const body = JSON.stringify(ids.map((id) => eventRow(id)))
      for (;;) {
        assert.ok(Date.now() < deadline, `client ${c} still holds ${ids[0]}…`)
        const alive = relays.filter((relay) => relay.child.exitCode === null && !relay.killed)
        const relay = alive[attempt++ % alive.length]
        let answer
        try {
          const response = await fetch(`${relay.url}${EVENTS}`, {
            method: 'POST',
            headers: { 'Content-Type': 'text/plain' },
            body,
          })
          answer = {
            status: response.status,
            headers: response.headers,
            body: await response.json(),
          }
        } catch {
          await sleep(200)
          continue
        }
        const code = answer.body.errors?.[0]?.error_code
        seen.answers.push({ status: answer.status, code, rows })
        if (answer.status === 200 && answer.body.result_code === 'Succeeded') {
          ids.forEach((id) => seen.acknowledged.add(id))
          break
        }
        if (![429, 503].includes(answer.status)) seen.unexpected.push(answer)
        const hint = Number(answer.headers.get('retry-after')) || 0.2
        await sleep(Math.min(hint * 1000, 2000))
      }
    }
  }
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)))
  return seen
}

/** Every row acknowledged is stored, and every row sent was acknowledged in the end. */
function assertNoLoss(seen) {
  assert.deepEqual(seen.unexpected, [])
  const stored = new Set(sim.state().lists.segment_events.records.map((r) => r.fields.EVENT_ID))
  for (const id of seen.acknowledged) assert.ok(stored.has(id), `${id} acknowledged, not stored`)
  for (const id of seen.sent) assert.ok(seen.acknowledged.has(id), `${id} never acknowledged`)
}

/** Sums of each metric (name and labels) over the relays' `/metrics`. */
async function metricsOf(relays) {
  const sums = new Map()
  for (const relay of relays) {
    const response = await fetch(relay.metricsUrl, {
      headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
    })
    assert.equal(response.status, 200)
    for (const [, series, value] of (await response.text()).matchAll(/^(selligent_\S+) (\S+)$/gm)) {
      sums.set(series, (sums.get(series) ?? 0) + Number(value))
    }
  }
  return (series) => sums.get(series) ?? 0
}

const lines = (relay, event) =>
  `${relay.output.stdout}${relay.output.stderr}`
    .split('\n')
    .filter((l) => l.includes(`"event":"${event}"`))

const post = (relay, id) =>
  fetch(`${relay.url}${EVENTS}`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' },
    body: JSON.stringify([eventRow(id)]),
  }).then(async (response) => ({
    status: response.status,
    headers: response.headers,
    body: await response.json(),
  }))

describe('relay scale-out: 3 instances, one Redis', () => {
  test('one budget for all: SMC never sees more than the burst plus the rate over any stretch, no row is lost, and the metrics count what happened', async () => {
    const redis = await startRedis()
    const relays = await startRelays(3, {
      REDIS_URL: redis.url,
      RELAY_BUDGET_PER_MINUTE: '30',
      RELAY_MAX_COALESCE_WAIT_MS: '4000',
      RELAY_RATE_LIMIT_PER_CLIENT: '0',
      RELAY_CLIENT_BUDGET_PERCENT: '0',
    })
    try {
      calls.length = 0
      const seen = await runClients({
        relays,
        clients: 6,
        rows: 5,
        until: Date.now() + 8000,
        deadline: Date.now() + 30_000,
      })
      assertNoLoss(seen)
      assertWithinBudget(30)
      assert.ok(calls.every((call) => call.status === 200))

      assert.equal((await fetch(relays[0].metricsUrl)).status, 401, 'the token is required')
      const metric = await metricsOf(relays)
      assert.equal(metric('selligent_relay_smc_calls_total{outcome="200"}'), calls.length)
      assert.equal(metric('selligent_relay_smc_call_rows_count'), calls.length)
      const forwarded = calls.reduce((n, call) => n + call.rows, 0)
      assert.equal(metric('selligent_relay_rows_forwarded_total'), forwarded)
      assert.ok(
        forwarded / calls.length > 5,
        `${forwarded} rows in ${calls.length} calls: batches merged`,
      )
      const rowsAnswered = seen.answers.reduce((n, answer) => n + answer.rows, 0)
      assert.equal(metric('selligent_relay_rows_accepted_total'), rowsAnswered)
      const exhausted = seen.answers.filter((answer) => answer.code === 'ERR_BUDGET_EXHAUSTED')
      assert.equal(
        metric('selligent_relay_requests_refused_total{reason="ERR_BUDGET_EXHAUSTED"}'),
        exhausted.length,
      )
      assert.equal(metric('selligent_relay_store_up'), 3)
      for (const relay of relays) assertNoCredential(`${relay.output.stdout}${relay.output.stderr}`)
      assert.ok(!relays.some((relay) => relay.output.stdout.includes(METRICS_TOKEN)))
    } finally {
      await stopAll(relays)
      await redis.stop()
    }
  })

  test("SMC's 429 seen by one instance pauses all; one client's requests are counted across instances; keys name the tenant and a hash of the key", async () => {
    const password = 'redis-pass-Ww8kT2'
    const redis = await startRedis(undefined, password)
    const url = `redis://:${password}@127.0.0.1:${redis.port}`
    const relays = await startRelays(3, {
      REDIS_URL: url,
      RELAY_BUDGET_PER_MINUTE: '600',
      RELAY_RATE_LIMIT_PER_CLIENT: '6',
    })
    // Another key on the same Redis: staging next to production.
    const [other] = await startRelays(1, { REDIS_URL: url, SMC_API_KEY: 'staging-key-4Rt7' })
    try {
      sim.setFaults({ rateLimited: true })
      const limited = await post(relays[0], 'p-0')
      assert.equal(limited.status, 429)
      assert.equal(limited.body.errors[0].error_code, 'ERR_SMC_RATE_LIMITED')
      sim.setFaults({ rateLimited: false })
      assert.equal(sim.calls, 1)
      for (const relay of relays.slice(1)) {
        const paused = await post(relay, 'p-1')
        assert.equal(paused.status, 429)
        assert.equal(paused.body.errors[0].error_code, 'ERR_BUDGET_EXHAUSTED')
        assert.ok(Number(paused.headers.get('retry-after')) >= 30, 'until SMC resets')
      }
      assert.equal(sim.calls, 1, 'the other instances did not call SMC')
      await post(other, 'p-2')
      assert.equal(sim.calls, 2, "another key's budget is not paused")

      // Requests 1 to 3 above, 4 to 6 here, each instance seeing two: the 7th is over the limit.
      for (const relay of relays)
        assert.notEqual(
          (await post(relay, 'p-3')).body.errors[0].error_code,
          'ERR_CLIENT_RATE_LIMITED',
        )
      const over = await post(relays[0], 'p-4')
      assert.equal(over.status, 429)
      assert.equal(over.body.errors[0].error_code, 'ERR_CLIENT_RATE_LIMITED')

      const redisClient = createClient({ url })
      await redisClient.connect()
      const keys = await redisClient.keys('*')
      await redisClient.close()
      const host = new URL(smc.url).host
      assert.ok(keys.length > 0)
      for (const key of keys) {
        assert.match(key, new RegExp(`^selligent-relay:${host.replace('.', '\\.')}:[0-9a-f]{16}:`))
        assertNoCredential(key)
      }
      for (const relay of [...relays, other]) {
        const output = `${relay.output.stdout}${relay.output.stderr}`
        assert.ok(!output.includes(password), 'the Redis password is never shown')
      }
    } finally {
      await stopAll([...relays, other])
      await redis.stop()
    }
  })

  test('an instance killed and Redis stopped mid-run lose no row; each change of state is one log line; /status stays up while /ready says not ready', async () => {
    const redis = await startRedis()
    const relays = await startRelays(3, {
      REDIS_URL: redis.url,
      RELAY_BUDGET_PER_MINUTE: '120',
      RELAY_RATE_LIMIT_PER_CLIENT: '0',
      RELAY_CLIENT_BUDGET_PERCENT: '0',
    })
    const started = Date.now()
    const at = (ms) => sleep(Math.max(0, started + ms - Date.now()))
    try {
      calls.length = 0
      const running = runClients({
        relays,
        clients: 6,
        rows: 5,
        until: started + 11_000,
        deadline: started + 35_000,
      })
      await at(2500)
      relays[0].killed = true
      relays[0].child.kill('SIGKILL')
      await at(5000)
      await redis.stop()
      await at(6500)
      for (const relay of relays.slice(1)) {
        assert.equal((await fetch(`${relay.url}/status`)).status, 200)
        assert.equal((await fetch(`${relay.url}/ready`)).status, 503)
      }
      await at(9000)
      await redis.start()
      assertNoLoss(await running)
      assertWithinBudget(120)
      for (const relay of relays.slice(1)) {
        assert.equal((await fetch(`${relay.url}/ready`)).status, 200)
        assert.equal(lines(relay, 'store_lost').length, 1, relay.output.stderr)
        assert.equal(lines(relay, 'store_back').length, 1, relay.output.stdout)
      }
    } finally {
      await stopAll(relays)
      await redis.stop()
    }
  })

  test('Redis down at start: the relay serves on its share and is not ready; once Redis answers, it is used without a restart', async () => {
    const port = await freePort()
    const [relay] = await startRelays(1, {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      RELAY_INSTANCES: '3',
      RELAY_BUDGET_PER_MINUTE: '600',
    })
    let redis
    try {
      assert.equal((await fetch(`${relay.url}/status`)).status, 200)
      assert.equal((await fetch(`${relay.url}/ready`)).status, 503)
      assert.equal((await post(relay, 'down-1')).status, 200)
      redis = await startRedis(port)
      const until = Date.now() + 5000
      while ((await fetch(`${relay.url}/ready`)).status !== 200) {
        assert.ok(Date.now() < until, 'ready once Redis answers')
        await sleep(100)
      }
      assert.equal((await post(relay, 'down-2')).status, 200)
      assert.equal(lines(relay, 'store_lost').length, 1, relay.output.stderr)
      assert.equal(lines(relay, 'store_back').length, 1, relay.output.stdout)
      const metric = await metricsOf([relay])
      assert.equal(metric('selligent_relay_store_up'), 1)
      assert.equal(metric('selligent_relay_smc_calls_total{outcome="200"}'), 2)
    } finally {
      await stopAll([relay])
      await redis?.stop()
    }
  })

  test('a bad REDIS_URL is refused at start without showing its password', async () => {
    const { child, output } = runCli({
      SMC_ADMIN_URL: smc.url,
      SMC_ORGANIZATION: ORGANIZATION,
      SMC_API_KEY: API_KEY,
      SMC_API_SECRET: API_SECRET,
      REDIS_URL: 'http://:pw-Zk81qLm@127.0.0.1:6379',
      PORT: '0',
    })
    try {
      const [code] = await Promise.race([once(child, 'exit'), sleep(5000).then(() => ['running'])])
      assert.equal(code, 2)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    assert.match(output.stderr, /REDIS_URL/)
    assert.ok(!output.stderr.includes('pw-Zk81qLm'), output.stderr)
  })
})
