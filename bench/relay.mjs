// Relay benchmark (`npm run bench:relay`, after `npm run build`). On loopback, it starts the SMC
// simulator and one relay process (the real `selligent-relay` CLI), then for 1, 50 and 500
// concurrent clients, each sending batches of event rows as the plugin does, measures: events per
// second through the relay, SMC calls per 10,000 events, and the latency the relay adds over
// sending the same batches straight to the simulator. Each level stops after 10,000 events or
// --seconds, whichever comes first. Options: --rows N (rows per request, default 10),
// --seconds S (per level and path, default 5).
import { spawn } from 'node:child_process'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { STANDARD_COLUMNS } from '../dist/relay.js'

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '10' }, seconds: { type: 'string', default: '5' } },
})
const ROWS = Number(values.rows)
const SECONDS = Number(values.seconds)
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

/** Starts a node script and resolves with the URL it prints on its `listening on` line. */
function start(script, env) {
  const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
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

/** `clients` loops sending batches to `url` until EVENTS_PER_LEVEL events or SECONDS elapse. */
async function load(url, headers, clients, tag, seconds = SECONDS) {
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
      const rows = Array.from({ length: ROWS }, (_, r) => [
        `${tag}-${c}-${batch}-${r}`,
        'track',
        'Order Completed',
        `user-${c}`,
        `anon-${c}`,
        '',
        PROPERTIES,
        CONTEXT,
        new Date().toISOString(),
      ])
      const sent = performance.now()
      const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(rows) })
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
})
const relay = await start('../dist/relay-cli.js', {
  SMC_ADMIN_URL: sim.url,
  SMC_ORGANIZATION: 'acme',
  SMC_API_KEY: KEY,
  SMC_API_SECRET: SECRET,
  // Measure the relay, not its protections: the budget and per-client limit would throttle the load.
  RELAY_BUDGET_PER_MINUTE: String(1e9),
  RELAY_RATE_LIMIT_PER_CLIENT: '0',
})
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
  sim.child.kill()
}

const ms = (n) => `${n.toFixed(1)} ms`
console.log(
  `\nRelay benchmark — ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}, loopback`,
)
console.log(
  `${ROWS} rows per request, default coalescing window (50 ms), up to ${EVENTS_PER_LEVEL} events or ${SECONDS} s per level\n`,
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
