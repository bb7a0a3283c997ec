// Relay benchmark (`npm run bench:relay`, after `npm run build`). On loopback, it starts the SMC
// simulator and relay processes (the real `selligent-relay` CLI) and runs these scenarios:
// - throughput: for 1, 50 and 500 concurrent clients, each sending batches of event rows as the
//   plugin does, events per second through the relay, SMC calls per 10,000 events, and the latency
//   the relay adds over sending the same batches straight to the simulator. Each level stops after
//   10,000 events or --seconds, whichever comes first.
// - flood: 1,000 connections each declaring a 1,000,000-byte body, sending up to 900,000 bytes of
//   it and stalling; the relay's RSS before and at its peak, and /status probes answered.
// - hang: SMC answers nothing for a minute while 300 clients keep sending for 20 s; the most SMC
//   calls in flight at once, and the relay's peak RSS.
// - slowloris: with the relay's file descriptors limited to 1,024, 2,000 connections send part of
//   their headers and stall; /status probes answered.
// - drain: 50 stalled uploads and one request in flight when SIGTERM comes; how long the relay
//   takes to exit (RELAY_DRAIN_TIMEOUT_MS=5000), and whether the request in flight was answered.
// - scale-out: 1 relay, and 3 sharing one Redis (a real redis-server on loopback) with clients
//   spread over them as a load balancer would: first 50 clients with the budget out of the way
//   (throughput, latency, SMC calls per 10,000 events, rows per call), then a fixed offered load
//   (--rate requests a second for --binding-seconds) against a budget it exceeds
//   (--budget calls a minute), each batch retried after `Retry-After` as the plugin does: SMC
//   calls per 10,000 events, rows per call, and the most SMC calls in any 60 s window.
// - abuse: 5 attacker addresses flood the events list with one-row requests holding a row SMC
//   refuses whole and with 500-row requests, beside one honest visitor sending a row every 1.5 s
//   and sending it once more after `Retry-After` if refused, against a budget of 600 calls a
//   minute (the default per-client limits): the attackers' share of SMC calls, the SMC calls a
//   minute, and how many of the honest rows were stored at the first try or after one retry.
// Each abuse scenario starts a relay of its own with the default bounds.
// Options: --rows N (rows per request, default 10), --seconds S (per level and path, default 5),
// --rate R, --budget B, --binding-seconds S (scale-out: default 100, 300 and 65),
// --scenarios a,b (default all), --relay-cli PATH (another build's dist/relay-cli.js, to measure
// it the same way).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { cpus } from 'node:os'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { STANDARD_COLUMNS } from '../dist/relay.js'
import { startRedis } from '../test/redisServer.mjs'

const SCENARIOS = ['throughput', 'flood', 'hang', 'slowloris', 'drain', 'scale-out', 'abuse']
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '100' },
    budget: { type: 'string', default: '300' },
    'binding-seconds': { type: 'string', default: '65' },
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    'relay-cli': {
      type: 'string',
      default: fileURLToPath(new URL('../dist/relay-cli.js', import.meta.url)),
    },
  },
})
const ROWS = Number(values.rows)
const SECONDS = Number(values.seconds)
const RELAY_CLI = resolve(values['relay-cli'])
const RUN = values.scenarios.split(',')
for (const name of RUN) if (!SCENARIOS.includes(name)) throw new Error(`unknown scenario ${name}`)
const LEVELS = [1, 50, 500]
const EVENTS_PER_LEVEL = 10_000
const KEY = 'bench-key'
const SECRET = 'bench-secret-0123456789'
const PATH = `/organizations/acme/lists/segment_events/data/load?keyFields=EVENT_ID&fields=${STANDARD_COLUMNS.join(',')}`
// A typical track call: a small properties object and the page context the plugin records.
const PROPERTIES = JSON.stringify({
  order_id: 'o-50314',
  total: 27.5,
  currency: 'EUR',
  products: [{ sku: 'SKU-1', qty: 2 }],
})
const CONTEXT = JSON.stringify({
  page: {
    url: 'https://shop.example/checkout/complete?step=3',
    path: '/checkout/complete',
    referrer: 'https://shop.example/cart',
    title: 'Thank you',
  },
  userAgent:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  locale: 'en-GB',
})

/**
 * Starts a node script and resolves with the URL it prints on its `listening on` line. With
 * `fdLimit`, the process may open at most that many file descriptors.
 */
function start(script, env, fdLimit) {
  const path = script.startsWith('/') ? script : fileURLToPath(new URL(script, import.meta.url))
  const command = fdLimit
    ? ['/bin/sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$1"`, process.execPath, path]]
    : [process.execPath, [path]]
  const child = spawn(command[0], command[1], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (process.env.BENCH_DEBUG)
    child.stderr.on('data', (d) => process.stderr.write(`${script}: ${d}`))
  child.stderr.resume()
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const match = /listening on (http:\/\/[\d.:]+)/.exec(out)
      if (match) {
        child.stdout.resume()
        child.stdout.removeAllListeners('data')
        resolve({ child, url: match[1] })
      }
    })
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)))
  })
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

/** A batch of event rows as the plugin sends them, for one user. */
const rowsOf = (ids, user) =>
  ids.map((id) => [
    id,
    'track',
    'Order Completed',
    `user-${user}`,
    `anon-${user}`,
    '',
    PROPERTIES,
    CONTEXT,
    new Date().toISOString(),
  ])

/**
 * `clients` loops sending batches to `url` (client c to `url[c % url.length]` when given several,
 * as a load balancer spreads them) until EVENTS_PER_LEVEL events or SECONDS elapse.
 */
async function load(url, headers, clients, tag, seconds = SECONDS) {
  const urls = [url].flat()
  const latencies = []
  let events = 0
  let failures = 0
  let next = 0
  const deadline = performance.now() + seconds * 1000
  const started = performance.now()
  const client = async (c) => {
    while (
      events + ROWS * (next - latencies.length - failures) < EVENTS_PER_LEVEL &&
      performance.now() < deadline
    ) {
      const batch = next++
      const ids = Array.from({ length: ROWS }, (_, r) => `${tag}-${c}-${batch}-${r}`)
      const sent = performance.now()
      const response = await fetch(urls[c % urls.length], {
        method: 'POST',
        headers,
        body: JSON.stringify(rowsOf(ids, c)),
      })
      await response.arrayBuffer()
      if (response.status === 200) {
        latencies.push(performance.now() - sent)
        events += ROWS
      } else failures++
    }
  }
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)))
  const elapsed = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return {
    events,
    failures,
    seconds: elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  }
}

const smcCalls = async (simUrl) => (await (await fetch(`${simUrl}/__smc/state`)).json()).calls
const reset = (simUrl) => fetch(`${simUrl}/__smc/reset`, { method: 'POST' })

const sim = await start('../test/smc-simulator/cli.mjs', {
  SIM_API_KEY: KEY,
  SIM_API_SECRET: SECRET,
  SIM_RATE_LIMIT_PER_MINUTE: String(1e9),
  SIM_PRINT_CALLS: '1',
})
/** When each SMC call arrived (ms since the epoch), from the simulator's `call` lines. */
const callTimes = []
let simOutput = ''
sim.child.stdout.on('data', (chunk) => {
  simOutput += chunk
  const lines = simOutput.split('\n')
  simOutput = lines.pop()
  for (const line of lines) {
    const match = /^call (\d+)/.exec(line)
    if (match) callTimes.push(Number(match[1]))
  }
})
const RELAY_ENV = {
  SMC_ADMIN_URL: sim.url,
  SMC_ORGANIZATION: 'acme',
  SMC_API_KEY: KEY,
  SMC_API_SECRET: SECRET,
  // One load generator is one client address: the per-client limits would refuse it.
  RELAY_RATE_LIMIT_PER_CLIENT: '0',
  RELAY_CLIENT_BUDGET_PERCENT: '0',
}
const startRelay = (env = {}, fdLimit = undefined) =>
  start(RELAY_CLI, { ...RELAY_ENV, ...env }, fdLimit)
const setFaults = (faults) =>
  fetch(`${sim.url}/__smc/faults`, { method: 'POST', body: JSON.stringify(faults) })

async function throughput() {
  // Measure the relay, not its protections: the budget would throttle the load.
  const relay = await startRelay({ RELAY_BUDGET_PER_MINUTE: String(1e9) })
  relay.child.stdout.resume()
  const results = []
  try {
    // Warm-up (JIT, connection pools) on both paths, not measured.
    await load(`${relay.url}${PATH}`, { 'Content-Type': 'text/plain' }, 50, 'warm-r', 1)
    await load(
      `${sim.url}/Portal/Api${PATH}`,
      { 'Content-Type': 'application/json', 'X-ApiKey': `${KEY}:${SECRET}` },
      50,
      'warm-d',
      1,
    )
    for (const clients of LEVELS) {
      await reset(sim.url)
      const through = await load(
        `${relay.url}${PATH}`,
        { 'Content-Type': 'text/plain' },
        clients,
        `r${clients}`,
      )
      const calls = await smcCalls(sim.url)
      await reset(sim.url)
      const direct = await load(
        `${sim.url}/Portal/Api${PATH}`,
        { 'Content-Type': 'application/json', 'X-ApiKey': `${KEY}:${SECRET}` },
        clients,
        `d${clients}`,
      )
      results.push({ clients, through, direct, calls })
    }
  } finally {
    relay.child.kill()
  }

  const ms = (n) => `${n.toFixed(1)} ms`
  console.log(
    `\nThroughput: ${ROWS} rows per request, default coalescing window (50 ms), up to ${EVENTS_PER_LEVEL} events or ${SECONDS} s per level\n`,
  )
  console.log(
    '| clients | events | events/s | SMC calls | SMC calls per 10,000 events | p50 added | p99 added | p50 / p99 relay | p50 / p99 direct |',
  )
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const { clients, through, direct, calls } of results) {
    const perTenThousand = through.events ? Math.round((calls / through.events) * 10_000) : NaN
    console.log(
      `| ${clients} | ${through.events} | ${Math.round(through.events / through.seconds)} | ${calls} | ${perTenThousand} | ${ms(through.p50 - direct.p50)} | ${ms(through.p99 - direct.p99)} | ${ms(through.p50)} / ${ms(through.p99)} | ${ms(direct.p50)} / ${ms(direct.p99)} |`,
    )
    if (through.failures || direct.failures)
      console.log(`  (failed requests: relay ${through.failures}, direct ${direct.failures})`)
  }
}

/** The resident memory of a process in MB, from Linux's /proc. */
function rssMb(pid) {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Math.round(Number(kb) / 1024)
}

/** Samples a process's RSS every 100 ms until `stop` is called; then resolves with the peak. */
function watchRss(pid) {
  let peak = rssMb(pid)
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMb(pid))
    } catch {
      // The process is gone.
    }
  }, 100)
  return () => {
    clearInterval(timer)
    return peak
  }
}

/** GET /status with a deadline; whether it answered 200. */
async function statusOk(url, ms = 2000) {
  try {
    const response = await fetch(`${url}/status`, { signal: AbortSignal.timeout(ms) })
    await response.arrayBuffer()
    return response.status === 200
  } catch (error) {
    if (process.env.BENCH_DEBUG) console.log('probe', error.name, error.cause?.code, error.message)
    return false
  }
}

/** A raw connection that writes `head`, then up to `bodyBytes` as fast as the relay reads them. */
function rawConnection(url, head, bodyBytes = 0) {
  const { port } = new URL(url)
  const socket = connect(Number(port), '127.0.0.1')
  const state = { socket, answered: '', closed: false }
  socket.on('data', (chunk) => {
    if (state.answered.length < 64) state.answered += chunk
  })
  socket.on('error', () => undefined)
  socket.on('close', () => (state.closed = true))
  socket.once('connect', async () => {
    socket.write(head)
    const chunk = Buffer.alloc(64 * 1024, '[')
    for (let sent = 0; sent < bodyBytes && !state.closed; sent += chunk.length) {
      // Stop writing where the relay stops reading, as a stalled client does.
      if (!socket.write(chunk.subarray(0, Math.min(chunk.length, bodyBytes - sent)))) {
        const drained = await Promise.race([once(socket, 'drain'), sleep(2000)])
        if (!drained) return
      }
    }
  })
  return state
}

const uploadHead = (length) =>
  `POST ${PATH} HTTP/1.1\r\nHost: relay.test\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n\r\n`

async function flood() {
  const relay = await startRelay()
  relay.child.stdout.resume()
  try {
    await load(`${relay.url}${PATH}`, { 'Content-Type': 'text/plain' }, 10, 'warm', 1)
    const before = rssMb(relay.child.pid)
    const peak = watchRss(relay.child.pid)
    const connections = Array.from({ length: 1000 }, () =>
      rawConnection(relay.url, uploadHead(1_000_000), 900_000),
    )
    // A probe every 500 ms, each given 2 s, whatever the others do.
    const probes = []
    for (let i = 0; i < 30; i++, await sleep(500)) probes.push(statusOk(relay.url))
    const answered = (await Promise.all(probes)).filter(Boolean).length
    const refused = connections.filter((c) => /^HTTP\/1\.1 5\d\d/.test(c.answered)).length
    const closed = connections.filter((c) => c.closed).length
    for (const c of connections) c.socket.destroy()
    console.log(
      `\nFlood: 1,000 uploads declaring 1,000,000 bytes, up to 900,000 sent each, then stalled (15 s)\n` +
        `relay RSS ${before} MB before, ${peak()} MB at peak; /status answered ${answered} of ${probes.length} probes; ` +
        `${refused} uploads answered 5xx, ${closed} closed by the relay`,
    )
  } finally {
    relay.child.kill()
  }
}

/** A batch of `rows` event rows as the plugin sends them. */
const batchOf = (tag, rows) =>
  JSON.stringify(
    rowsOf(
      Array.from({ length: rows }, (_, r) => `${tag}-${r}`),
      1,
    ),
  )

async function hang() {
  const relay = await startRelay()
  relay.child.stdout.resume()
  try {
    await load(`${relay.url}${PATH}`, { 'Content-Type': 'text/plain' }, 10, 'warm', 1)
    await reset(sim.url)
    await setFaults({ delayMs: 60_000 })
    const before = rssMb(relay.child.pid)
    const peak = watchRss(relay.child.pid)
    // Browsers keep arriving whatever SMC does: 100 batches of 100 rows a second, for 20 s.
    const answers = []
    for (let i = 0; i < 2000; i++, await sleep(10)) {
      answers.push(
        fetch(`${relay.url}${PATH}`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: batchOf(`hang-${i}`, 100),
        }).then(
          (response) => response.arrayBuffer().then(() => response.status),
          () => 0,
        ),
      )
    }
    const statuses = await Promise.all(answers)
    const { maxInFlight } = await (await fetch(`${sim.url}/__smc/state`)).json()
    const count = (status) => statuses.filter((s) => s === status).length
    console.log(
      `\nSMC hanging: 100 batches of 100 rows a second for 20 s while SMC answers nothing\n` +
        `most SMC calls in flight at once: ${maxInFlight}; relay RSS ${before} MB before, ${peak()} MB at peak; ` +
        `answers: ${count(503)} × 503, ${count(429)} × 429, ${count(0)} without an answer`,
    )
  } finally {
    await setFaults({ delayMs: 0 })
    relay.child.kill()
  }
}

async function slowloris() {
  const relay = await startRelay({}, 1024)
  relay.child.stdout.resume()
  try {
    const connections = Array.from({ length: 2000 }, () =>
      rawConnection(relay.url, 'GET /status HTTP/1.1\r\nHost: relay.test\r\nX-Slow: '),
    )
    await sleep(3000)
    let answered = 0
    for (let i = 0; i < 20; i++) if (await statusOk(relay.url)) answered++
    const open = connections.filter((c) => !c.closed).length
    for (const c of connections) c.socket.destroy()
    console.log(
      `\nSlowloris: relay limited to 1,024 file descriptors, 2,000 connections stalled in their headers\n` +
        `/status answered ${answered} of 20 probes; ${open} of the stalled connections still open`,
    )
  } finally {
    relay.child.kill()
  }
}

async function drain() {
  const relay = await startRelay({ RELAY_DRAIN_TIMEOUT_MS: '5000' })
  if (process.env.BENCH_DEBUG)
    relay.child.stdout.on('data', (d) => process.stdout.write(`relay: ${d}`))
  relay.child.stdout.resume()
  try {
    await setFaults({ delayMs: 1000 })
    const stalled = Array.from({ length: 50 }, () =>
      rawConnection(relay.url, uploadHead(10_000), 100),
    )
    const inFlight = fetch(`${relay.url}${PATH}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify([[`drain-1`, 'track', '', '', '', '', '', '', '']]),
    }).then(
      (response) => response.status,
      (error) => `no answer (${error.cause?.code ?? error.message})`,
    )
    // Stopped once the request is being forwarded.
    while ((await smcCalls(sim.url)) === 0) await sleep(10)
    const stopped = Date.now()
    relay.child.kill('SIGTERM')
    const exited = await Promise.race([
      once(relay.child, 'exit').then(() => `${((Date.now() - stopped) / 1000).toFixed(1)} s`),
      sleep(60_000).then(() => 'still running after 60 s'),
    ])
    for (const c of stalled) c.socket.destroy()
    console.log(
      `\nDrain: SIGTERM with 50 stalled uploads and one request waiting on SMC (1 s)\n` +
        `exited after ${exited}; the request in flight got ${await inFlight}`,
    )
  } finally {
    await setFaults({ delayMs: 0 })
    relay.child.kill('SIGKILL')
  }
}

/** The most of `times` (sorted) within any `windowMs`. */
function mostInWindow(times, windowMs) {
  let most = 0
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] >= windowMs) i++
    most = Math.max(most, j - i + 1)
  }
  return most
}

/**
 * A fixed offered load: `rate` requests a second for `seconds`, each a batch of ROWS new rows sent
 * to the next of `urls`; a batch not answered 200 is sent again (to the next) after
 * `Retry-After`, as the plugin does, until it is or 60 s after the load ends.
 */
async function offer(urls, rate, seconds, tag) {
  const latencies = []
  let events = 0
  let refusals = 0
  let next = 0
  const deadline = performance.now() + (seconds + 60) * 1000
  const request = async (i) => {
    const body = JSON.stringify(
      rowsOf(
        Array.from({ length: ROWS }, (_, r) => `${tag}-${i}-${r}`),
        i % 1000,
      ),
    )
    const sent = performance.now()
    while (performance.now() < deadline) {
      const response = await fetch(urls[next++ % urls.length], {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body,
      }).catch(() => undefined)
      await response?.arrayBuffer()
      if (response?.status === 200) {
        latencies.push(performance.now() - sent)
        events += ROWS
        return
      }
      refusals++
      await sleep(Number(response?.headers.get('retry-after') ?? 1) * 1000)
    }
  }
  const requests = []
  const started = performance.now()
  for (let i = 0; performance.now() - started < seconds * 1000; i++) {
    requests.push(request(i))
    await sleep(Math.max(0, started + ((i + 1) * 1000) / rate - performance.now()))
  }
  await Promise.all(requests)
  latencies.sort((a, b) => a - b)
  return {
    offered: requests.length * ROWS,
    events,
    refusals,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  }
}

/**
 * Attackers beside an honest visitor, each its own address through a trusted proxy header. The
 * attackers ignore `Retry-After`; the honest visitor waits it out once, as the plugin does.
 */
async function abuse() {
  // A tenth of the default: a client's share (60 calls a minute) still carries a visitor's row
  // every 1.5 s sent alone.
  const BUDGET = 600
  const ATTACKERS = 5
  const DURATION_S = 30
  const relay = await startRelay({
    RELAY_BUDGET_PER_MINUTE: String(BUDGET),
    RELAY_RATE_LIMIT_PER_CLIENT: '600',
    RELAY_CLIENT_BUDGET_PERCENT: '10',
    RELAY_CLIENT_ADDRESS_HEADER: 'x-forwarded-for',
    RELAY_TRUSTED_PROXIES: '127.0.0.1',
  })
  relay.child.stdout.resume()
  await setFaults({ refuseWhole: '400' })
  callTimes.length = 0
  const url = `${relay.url}${PATH}`
  const send = async (address, rows, read = true) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'X-Forwarded-For': address },
      body: JSON.stringify(rows),
    }).catch(() => undefined)
    if (read) await response?.arrayBuffer()
    return response
  }
  const started = performance.now()
  const running = () => performance.now() - started < DURATION_S * 1000
  let attacks = 0
  const attacker = async (address, rowsOfRequest) => {
    for (let i = 0; running(); i++) {
      const rows = rowsOfRequest(`${address}-${i}`)
      const response = await send(address, rows)
      attacks++
      if (!response) await sleep(10)
    }
  }
  // A row SMC refuses, so the simulator (refuseWhole) refuses every call holding it as a whole.
  const badRow = (id) => [
    rowsOf([id], 'attacker')[0].map((cell, c) => (c === 1 ? 'x'.repeat(30) : cell)),
  ]
  const fullBatch = (id) =>
    rowsOf(
      Array.from({ length: 500 }, (_, r) => `${id}-${r}`),
      'attacker',
    )
  const honest = { sent: 0, first: 0, retried: 0, lost: 0, refusals: {} }
  const noteRefusal = async (response) => {
    const code = response
      ? `${response.status} ${(await response.json().catch(() => ({}))).errors?.[0]?.error_code ?? ''}`
      : 'no answer'
    honest.refusals[code] = (honest.refusals[code] ?? 0) + 1
  }
  const visitor = async () => {
    const pending = []
    for (let i = 0; running(); i++) {
      pending.push(
        (async () => {
          honest.sent++
          const rows = rowsOf([`honest-${i}`], 'honest')
          const first = await send('198.51.100.7', rows, false)
          if (first?.status === 200) return honest.first++
          await noteRefusal(first)
          await sleep(Math.min(60, Number(first?.headers.get('retry-after') ?? 1)) * 1000)
          const second = await send('198.51.100.7', rows, false)
          if (second?.status === 200) return honest.retried++
          await noteRefusal(second)
          honest.lost++
        })(),
      )
      await sleep(1500)
    }
    await Promise.all(pending)
  }
  try {
    await Promise.all([
      visitor(),
      ...Array.from({ length: ATTACKERS }, (_, a) => [
        attacker(`203.0.113.${a + 1}`, badRow),
        attacker(`203.0.113.${a + 1}`, badRow),
        attacker(`203.0.113.${a + 1}`, fullBatch),
      ]).flat(),
    ])
  } finally {
    relay.child.kill()
    await setFaults({ refuseWhole: '' })
  }
  const calls = callTimes.length
  // Alone, the honest visitor would cost one call per row it sent (a retry at most doubling it).
  const attackersShare = (calls - honest.sent) / calls
  console.log(
    `\nAbuse: ${ATTACKERS} attacker addresses (one-row requests SMC refuses whole, 500-row requests) beside an honest visitor (a row every 1.5 s), ${DURATION_S} s, budget ${BUDGET} SMC calls a minute\n`,
  )
  console.log(
    "| attacker requests | SMC calls | SMC calls a minute | attackers' share of SMC calls | honest rows | stored first try | after one retry | lost | honest success |",
  )
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  console.log(
    `| ${attacks} | ${calls} | ${Math.round((calls / DURATION_S) * 60)} | ${(attackersShare * 100).toFixed(1)} % | ${honest.sent} | ${honest.first} | ${honest.retried} | ${honest.lost} | ${(((honest.first + honest.retried) / honest.sent) * 100).toFixed(1)} % |`,
  )
  console.log(`(the honest visitor's refusals: ${JSON.stringify(honest.refusals)})`)
}

async function scaleOut() {
  const redis = await startRedis()
  /** `count` relays; several share the Redis, each told how many they are. */
  const relays = async (count, env) => {
    const shared = count > 1 ? { REDIS_URL: redis.url, RELAY_INSTANCES: String(count) } : {}
    const started = await Promise.all(
      Array.from({ length: count }, () => startRelay({ ...shared, ...env })),
    )
    for (const relay of started) relay.child.stdout.resume()
    return started
  }
  const stop = (started) => started.forEach((relay) => relay.child.kill())
  const ms = (n) => `${n.toFixed(1)} ms`
  const CLIENTS = 50
  const BUDGET = Number(values.budget)
  const RATE = Number(values.rate)
  const BINDING_SECONDS = Number(values['binding-seconds'])
  try {
    const direct = await load(
      `${sim.url}/Portal/Api${PATH}`,
      { 'Content-Type': 'application/json', 'X-ApiKey': `${KEY}:${SECRET}` },
      CLIENTS,
      'so-d',
    )
    const open = []
    for (const count of [1, 3]) {
      const started = await relays(count, { RELAY_BUDGET_PER_MINUTE: String(1e9) })
      const urls = started.map((relay) => `${relay.url}${PATH}`)
      try {
        await load(urls, { 'Content-Type': 'text/plain' }, CLIENTS, `so-w${count}`, 1)
        await reset(sim.url)
        const through = await load(urls, { 'Content-Type': 'text/plain' }, CLIENTS, `so-${count}`)
        open.push({ count, through, calls: await smcCalls(sim.url) })
      } finally {
        stop(started)
      }
    }
    const binding = []
    for (const count of [1, 3]) {
      await redis.stop()
      await redis.start()
      const started = await relays(count, { RELAY_BUDGET_PER_MINUTE: String(BUDGET) })
      try {
        await reset(sim.url)
        callTimes.length = 0
        const offered = await offer(
          started.map((relay) => `${relay.url}${PATH}`),
          RATE,
          BINDING_SECONDS,
          `so-b${count}`,
        )
        const times = [...callTimes].sort((a, b) => a - b)
        binding.push({ count, offered, calls: times.length, most: mostInWindow(times, 60_000) })
      } finally {
        stop(started)
      }
    }

    console.log(
      `\nScale-out, budget out of the way: ${CLIENTS} clients, ${ROWS} rows per request, spread over the relays; up to ${EVENTS_PER_LEVEL} events or ${SECONDS} s\n`,
    )
    console.log(
      '| relays | events/s | SMC calls per 10,000 events | rows per SMC call | p50 added | p99 added | p50 / p99 relay |',
    )
    console.log('|---:|---:|---:|---:|---:|---:|---:|')
    for (const { count, through, calls } of open) {
      console.log(
        `| ${count} | ${Math.round(through.events / through.seconds)} | ${Math.round((calls / through.events) * 10_000)} | ${(through.events / calls).toFixed(1)} | ${ms(through.p50 - direct.p50)} | ${ms(through.p99 - direct.p99)} | ${ms(through.p50)} / ${ms(through.p99)} |`,
      )
    }
    console.log(`(straight to the simulator: p50 / p99 ${ms(direct.p50)} / ${ms(direct.p99)})`)
    console.log(
      `\nScale-out, budget binding: ${RATE} requests of ${ROWS} rows a second for ${BINDING_SECONDS} s, budget ${BUDGET} SMC calls a minute, retried after Retry-After\n`,
    )
    console.log(
      '| relays | events offered | events stored | SMC calls | SMC calls per 10,000 events | rows per SMC call | most SMC calls in any 60 s | refusals | p50 / p99 until stored |',
    )
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const { count, offered, calls, most } of binding) {
      console.log(
        `| ${count} | ${offered.offered} | ${offered.events} | ${calls} | ${Math.round((calls / offered.events) * 10_000)} | ${(offered.events / calls).toFixed(1)} | ${most} of ${BUDGET} | ${offered.refusals} | ${ms(offered.p50)} / ${ms(offered.p99)} |`,
      )
    }
    const [one, three] = binding
    if (one && three) {
      console.log(
        `3 relays need ${(three.calls / three.offered.events / (one.calls / one.offered.events)).toFixed(2)}× the SMC calls per event of 1`,
      )
    }
  } finally {
    await redis.stop()
  }
}

console.log(
  `\nRelay benchmark — ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}, loopback, ${RELAY_CLI}`,
)
try {
  for (const name of RUN) {
    await reset(sim.url)
    await { throughput, flood, hang, slowloris, drain, 'scale-out': scaleOut, abuse }[name]()
  }
} finally {
  sim.child.kill()
}
