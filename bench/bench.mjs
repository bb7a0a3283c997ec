#!/usr/bin/env node
// `npm run bench`: this plugin side by side with analytics-next's own Segment.io destination, in
// headless Chromium, same page, same contexts (docs/design.md#size-and-speed-targets: speed is
// judged beside Segment.io, not against an absolute figure). Needs `npm run build` first (it loads
// dist/index.js). Prints markdown tables; `--json FILE` also writes the raw runs;
// `--profile ours|segment` prints a CPU profile of one run instead (where the time goes).
//
// Options (environment), defaults first:
//   BENCH_N=100,1000,10000   sizes          BENCH_REPS=5           measured repetitions per size
//   BENCH_SEGMENT_MAX_N=1000 largest N Segment.io runs at (see below)
//   BENCH_RATE=0             0: hook calls back to back, one per task; R: R events/s from timers
//   BENCH_ONE_TASK=0         1: all N hook calls in one task (a site's burst; the queue then holds
//                            N rows at once, past the storage bounds at N = 10,000)
//   BENCH_PIPELINE_N=500     BENCH_PIPELINE_REPS=3   the whole-pipeline runs (0: none)
//   BENCH_TRACE=1            0: no trace (no longest task)      CHROME_PATH=/usr/bin/chromium
//   BENCH_TRACE_DETAIL=0     1: trace more categories and print what each run's longest task did
//                            (a page view: every task, and a table of its tasks by kind)
//   BENCH_SETTINGS={}        more settings for this plugin, as JSON: '{"persist":false}' shows
//                            what storage costs, '{"batchSize":1}' what one request costs
//   BENCH_FLOOR_MERGE=1      the floor sends this many of the plugin's bodies per request: what
//                            fewer, bigger requests of the same bytes would cost
//   BENCH_MODE=all           page-view: the page-view runs only; bursts: all but those
//   BENCH_PAGE_VIEW_REPS=15  measured repetitions of the page view
//   BENCH_CACHED_SCRIPT=0    1: the page's script is cacheable, so Chrome caches its compiled code
//                            (a returning visitor's page view)
//   BENCH_BEFORE=            a directory holding another build's index.js (e.g. the dist of the
//                            commit a change starts from): the page view then runs it too, as
//                            `before`, side by side with dist/index.js in the same run
//
// What one run measures, for one setup and N contexts built up front in the page:
// - main-thread time: Chrome's TaskDuration (DevTools protocol Performance.getMetrics, in thread
//   time so that other processes on the machine do not inflate it) from just before the first
//   hook call until the local server holds every event, plus 250 ms for the page to handle the
//   last answers (idle time adds nothing); minus the same repetition's baseline run (an empty
//   destination given the same contexts), divided by N;
// - longest task: the longest top-level task on the renderer's main thread in that window (a
//   DevTools trace, category `toplevel`, thread time). Each hook call runs in a task of its own,
//   as analytics-next calls destinations from timer tasks, so no task holds more of the
//   benchmark than one call: the longest task is the setup's own (its flushes, timers,
//   serialisation, storage writes); the baseline's shows the page's floor;
// - requests, bytes on the wire (request line + headers + body, as the server read them) per
//   delivered event, events delivered (distinct message ids; repeats are counted apart).
// Setups alternate run by run (the order rotates every repetition), after one unmeasured round
// (code compiled, connections open); medians with min–max.
//
// Besides the empty destination, this plugin and Segment.io, a fourth setup, the floor, replays
// the request bodies this plugin sent in its last complete run of the same contexts, each as soon
// as the hook call that completed it arrives: what those requests and bytes alone cost the main
// thread, so that this plugin's own work (mapping, queue, storage) reads as the difference.
//
// The page view (docs/performance-page-view.md): what one visitor's page costs, fixed costs
// included. Each run opens a fresh page (a new document: nothing of the setup compiled or loaded
// yet), builds the contexts of one page view (a `page`, an `identify`, 8 `track`s, made by
// analytics-next), then, on the clock, calls the setup's load() and hands it the 10 contexts, one
// per task, until the server holds all 10 (+ 250 ms), as above: minus the same repetition's
// baseline run. The floor sends the plugin's last request body (one request of the same bytes) at
// the tenth call. load() alone is timed in the page, from the call until its promise resolved.
// A fifth setup, the bare destination, maps each call to the same row with `JSON.stringify` and
// sends the rows in one request a second after the first call, and does nothing else (no queue,
// storage, tabs, retries, page leave or reports): what mapping and one request cost at the least.
// Besides thread time, the longest hook call is timed in the page (wall clock): what the visitor's
// page waited for, including the waits thread time leaves out (a synchronous storage load).
//
// Segment.io's batching dispatcher re-serialises its whole buffer for every event it is given
// (`approachingTrackingAPILimit`) and again per event when it builds a batch (`buildBatch`), so
// its cost per event grows with the backlog and a large burst runs for very long (docs/performance.md,
// "How to read these numbers"). It runs up to BENCH_SEGMENT_MAX_N; raise it to see.
import { createServer } from 'node:http'
import { availableParallelism, loadavg } from 'node:os'
import { existsSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { rollup } from 'rollup'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import commonjs from '@rollup/plugin-commonjs'
import { chromium } from 'playwright-core'
import { CHROME_ARGS as BASE_ARGS, CHROME_PATH } from '../scripts/chromium.mjs'
import { freePort } from '../scripts/freePort.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const env = (name, fallback) => process.env[name] ?? fallback
const SIZES = env('BENCH_N', '100,1000,10000').split(',').map(Number)
const REPS = Number(env('BENCH_REPS', '5'))
const PIPELINE_N = Number(env('BENCH_PIPELINE_N', '500'))
const PIPELINE_REPS = Number(env('BENCH_PIPELINE_REPS', '3'))
const TRACE = env('BENCH_TRACE', '1') !== '0'
const TRACE_DETAIL = TRACE && env('BENCH_TRACE_DETAIL', '0') === '1'
const RATE = Number(env('BENCH_RATE', '0'))
const ONE_TASK = env('BENCH_ONE_TASK', '0') === '1'
const SEGMENT_MAX_N = Number(env('BENCH_SEGMENT_MAX_N', '1000'))
const SETTINGS = JSON.parse(env('BENCH_SETTINGS', '{}'))
const FLOOR_MERGE = Number(env('BENCH_FLOOR_MERGE', '1'))
const MODE = env('BENCH_MODE', 'all')
const CACHED_SCRIPT = env('BENCH_CACHED_SCRIPT', '0') === '1'
const PAGE_VIEW_REPS = Number(env('BENCH_PAGE_VIEW_REPS', '15'))
const BEFORE = env('BENCH_BEFORE', '')
const SETTLE_MS = 250
const RUN_TIMEOUT_MS = 60_000
const MEMORY_N = 10_000
const jsonOut = process.argv.includes('--json')
  ? process.argv[process.argv.indexOf('--json') + 1]
  : undefined

const profileKind = process.argv.includes('--profile')
  ? process.argv[process.argv.indexOf('--profile') + 1]
  : undefined
// `floor` runs after `ours` in the warm-up round: it replays the request bodies `ours` sent.
const SETUPS = ['baseline', 'ours', 'floor', 'segment']
const PAGE_VIEW_SETUPS = [
  'baseline',
  'ours',
  ...(BEFORE ? ['before'] : []),
  'bare',
  'floor',
  'segment',
]
const LABEL = {
  baseline: 'empty destination',
  ours: 'Selligent (this plugin)',
  before: `Selligent, the build in ${BEFORE}`,
  bare: 'bare destination: rows mapped, one request',
  floor: `floor: its request bodies, prebuilt${FLOOR_MERGE > 1 ? `, ${FLOOR_MERGE} per request` : ''}`,
  segment: 'Segment.io (batching 20/1 s)',
}

if (!existsSync(resolve(root, 'dist/index.js'))) {
  console.error('bench: dist/index.js is missing; run `npm run build` first.')
  process.exit(1)
}

// ---------------------------------------------------------------------------------------------
// The page's code: bench/app.mjs with analytics-next and dist/index.js, bundled in memory.

/** Resolves `selligent-before` (bench/app.mjs) to BENCH_BEFORE's index.js, or to dist's. */
const beforeBuild = () => ({
  name: 'selligent-before',
  resolveId: (id) =>
    id === 'selligent-before' ? resolve(root, BEFORE || 'dist', 'index.js') : null,
})
async function bundleApp() {
  const bundle = await rollup({
    input: resolve(root, 'bench/app.mjs'),
    plugins: [beforeBuild(), nodeResolve({ browser: true }), commonjs()],
    onwarn: () => {},
  })
  const { output } = await bundle.generate({
    format: 'iife',
    name: 'bench',
    inlineDynamicImports: true,
  })
  await bundle.close()
  return output[0].code
}

// ---------------------------------------------------------------------------------------------
// The local server: serves the page, stands in for the relay (SMC's answers) and for Segment's
// tracking API, and counts what each run sent.
function startServer(appCode) {
  const runs = new Map()
  const run = (tag) => {
    let r = runs.get(tag)
    if (!r) {
      r = {
        requests: 0,
        bodyBytes: 0,
        headerBytes: 0,
        events: 0,
        ids: new Set(),
        repeats: 0,
        inflight: 0,
        lastAt: 0,
        // Request bodies, for the floor setup to replay (taken and cleared after each run).
        bodies: [],
      }
      runs.set(tag, r)
    }
    return r
  }
  const page =
    '<!doctype html><html><head><meta charset="utf-8"><title>Shop — checkout</title></head><body><h1>bench</h1><script src="/app.js"></script></body></html>'
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const url = new URL(req.url, 'http://x')
      if (req.method === 'GET' && url.pathname.startsWith('/shop')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page)
        return
      }
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204).end()
        return
      }
      if (req.method === 'GET' && url.pathname === '/app.js') {
        res
          .writeHead(200, {
            'content-type': 'text/javascript; charset=utf-8',
            // A returning visitor's page: the script from the HTTP cache, with Chrome's compiled code.
            ...(CACHED_SCRIPT ? { 'cache-control': 'max-age=3600' } : {}),
          })
          .end(appCode)
        return
      }
      const ours = /^\/smc\/organizations\/[^/]+\/lists\/bench_([^/]+)\/data\/load$/.exec(
        url.pathname,
      )
      const segment = /^\/seg\/([^/]+)\/b$/.exec(url.pathname)
      if (req.method !== 'POST' || (!ours && !segment)) {
        res.writeHead(404).end()
        return
      }
      const r = run((ours ?? segment)[1])
      if (ours) r.bodies.push(body.toString('latin1'))
      r.requests++
      r.bodyBytes += body.length
      // What the request carried besides its body: request line, headers, blank line.
      r.headerBytes += `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`.length + 2
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        r.headerBytes += req.rawHeaders[i].length + req.rawHeaders[i + 1].length + 4
      }
      let ids = []
      try {
        const json = JSON.parse(body.toString('utf8'))
        ids = ours ? json.map((row) => row[0]) : json.batch.map((event) => event.messageId)
      } catch {
        // counted as a request with no events
      }
      r.events += ids.length
      for (const id of ids) {
        if (r.ids.has(id)) r.repeats++
        else r.ids.add(id)
      }
      r.lastAt = performance.now()
      if (ours) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            result_code: 'Succeeded',
            errors: null,
            number_of_inserted_records: ids.length,
            number_of_updated_records: 0,
            number_of_failed_records: 0,
            invalid_records: [],
          }),
        )
      } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}')
    })
  })
  return new Promise((done) => {
    server.listen(0, '127.0.0.1', () => done({ server, port: server.address().port, run, runs }))
  })
}

// ---------------------------------------------------------------------------------------------
// Browser.
const CHROME_ARGS = [
  ...BASE_ARGS,
  '--enable-precise-memory-info',
  // Loopback only: any other host name fails at once, without a DNS query.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
]

async function openPage(browser, origin) {
  const page = await browser.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('request', (r) => {
    if (!r.url().startsWith('http://127.0.0.1:')) errors.push(`request off loopback: ${r.url()}`)
  })
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  await page.goto(`${origin}/shop/checkout`)
  await page.waitForFunction(() => window.bench !== undefined)
  const cdp = await page.context().newCDPSession(page)
  // Thread time: what the main thread really spent, whatever else the machine was running.
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' })
  return { page, cdp, errors }
}

async function taskSeconds(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics')
  return metrics.find((m) => m.name === 'TaskDuration').value
}

const TASK_NAMES = new Set(['RunTask', 'ThreadControllerImpl::RunTask'])
/**
 * A trace event's thread (CPU) time, which a busy machine does not inflate. It is now and then
 * wrong past any sense (far more thread time than wall time): never above its wall time.
 */
const threadTime = (e) => Math.min(e.tdur ?? e.dur, e.dur)
/**
 * The longest top-level task on the page's main thread in a trace, in ms (`longestMs`). With
 * `burstMs` (the wall time of the hook calls, all made in one task) that task is the site's own
 * burst, not the setup's: the shortest task lasting at least as long is left out. For a page view
 * with BENCH_TRACE_DETAIL, also its tasks by kind (`tasks`, see `pageViewTasks`).
 */
function longestTask(trace, burstMs, pageView = false) {
  const events = JSON.parse(trace).traceEvents
  const mains = new Set(
    events
      .filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      .map((e) => `${e.pid}:${e.tid}`),
  )
  const tasks = events.filter(
    (e) => e.ph === 'X' && TASK_NAMES.has(e.name) && mains.has(`${e.pid}:${e.tid}`),
  )
  if (burstMs) {
    const [burst] = tasks.filter((e) => e.dur >= burstMs * 1000).sort((a, b) => a.dur - b.dur)
    if (burst) tasks.splice(tasks.indexOf(burst), 1)
  }
  const byThread = new Map()
  for (const e of tasks) {
    const key = `${e.pid}:${e.tid}`
    const t = byThread.get(key) ?? { busy: 0, longest: 0 }
    const spent = threadTime(e)
    t.busy += spent
    t.longest = Math.max(t.longest, spent)
    byThread.set(key, t)
  }
  // The renderer of the page is the main thread that was busiest.
  const [[key, thread] = []] = [...byThread].sort(([, a], [, b]) => b.busy - a.busy)
  if (thread && TRACE_DETAIL && pageView) describeTasks(events, key)
  else if (thread && TRACE_DETAIL) describeTask(events, key, thread.longest)
  return {
    longestMs: thread ? thread.longest / 1000 : NaN,
    tasks: thread && TRACE_DETAIL && pageView ? pageViewTasks(events, key) : undefined,
  }
}

/** The thread's top-level tasks, in order: a task may run inside another of another name. */
function outermostTasks(onThread) {
  let end = 0
  return onThread
    .filter((e) => TASK_NAMES.has(e.name))
    .sort((a, b) => a.ts - b.ts)
    .filter((e) => e.ts >= end && (end = e.ts + e.dur))
}

/** Prints the trace events inside the thread's longest task, by name, longest first. */
function describeTask(events, key, longest) {
  const onThread = events.filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === key)
  const task = onThread.filter((e) => TASK_NAMES.has(e.name)).find((e) => threadTime(e) === longest)
  describeIn(onThread, task, longest)
}

/** A page view's trace: every task of the main thread over 0.05 ms, in order, and what it did. */
function describeTasks(events, key) {
  const onThread = events.filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === key)
  const tasks = outermostTasks(onThread).filter((e) => threadTime(e) >= 50)
  const t0 = tasks[0]?.ts ?? 0
  let total = 0
  for (const task of tasks) {
    total += threadTime(task)
    process.stderr.write(`    @${((task.ts - t0) / 1000).toFixed(1)} ms `)
    describeIn(onThread, task, threadTime(task))
  }
  process.stderr.write(`    tasks ≥ 0.05 ms: ${tasks.length}, ${(total / 1000).toFixed(2)} ms\n`)
}

/** What a page view's main-thread tasks were, by kind: thread ms per kind (see `runPageView`). */
const TASK_KINDS = [
  'load() and the first call',
  'the other 9 calls',
  'timers (storage writes, …)',
  'the request',
  'the answer, and after',
]
function pageViewTasks(events, key) {
  const onThread = events.filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === key)
  const tasks = outermostTasks(onThread)
  const sums = Object.fromEntries(TASK_KINDS.map((k) => [k, 0]))
  let called = false
  let requested = false
  for (const task of tasks) {
    const inside = new Set(
      onThread
        .filter((e) => e.ts >= task.ts && e.ts + e.dur <= task.ts + task.dur)
        .map((e) => e.name),
    )
    let kind
    if (inside.has('ResourceFetcher::requestResource')) kind = 3
    else if (requested) kind = 4
    else if (inside.has('MessagePort::Accept')) kind = 1
    else if (inside.has('TimerFire')) kind = 2
    else if (!called) kind = 0
    else continue
    if (kind === 1) called = true
    if (kind === 3) requested = true
    sums[TASK_KINDS[kind]] += threadTime(task) / 1000
  }
  return sums
}

function describeIn(onThread, task, longest) {
  const inside = new Map()
  for (const e of onThread) {
    if (TASK_NAMES.has(e.name) || e.ts < task.ts || e.ts + e.dur > task.ts + task.dur) continue
    const fn = e.args?.data?.functionName || e.args?.data?.url?.split('/').pop()
    const name = fn ? `${e.name}(${fn})` : e.name
    inside.set(name, (inside.get(name) ?? 0) + e.dur)
  }
  const top = [...inside].sort((a, b) => b[1] - a[1]).slice(0, 10)
  process.stderr.write(
    `    longest task ${(longest / 1000).toFixed(1)} ms (wall ${(task.dur / 1000).toFixed(1)}): ${top.map(([n, d]) => `${n} ${(d / 1000).toFixed(1)}`).join(', ')}\n`,
  )
}

async function waitUntil(predicate, timeoutMs) {
  const deadline = performance.now() + timeoutMs
  while (!predicate()) {
    if (performance.now() > deadline) return false
    await sleep(5)
  }
  return true
}

// ---------------------------------------------------------------------------------------------
// One run: one setup, N contexts.
async function runOnce(ctx, kind, n, runNo) {
  const { browser, page, cdp, server } = ctx
  const tag = await page.evaluate(
    ([k, r, settings, bodies, merge, loadInStart]) =>
      window.bench.prepare(k, r, { settings, bodies, merge, loadInStart }),
    [kind, runNo, SETTINGS, kind === 'floor' ? ctx.bodies : undefined, FLOOR_MERGE, !!ctx.pageView],
  )
  await cdp.send('HeapProfiler.collectGarbage')
  await sleep(100)
  if (TRACE) {
    const detail = ['devtools.timeline', 'v8', 'blink', 'disabled-by-default-devtools.timeline']
    await browser.startTracing(page, { categories: ['toplevel', ...(TRACE_DETAIL ? detail : [])] })
  }
  const before = await taskSeconds(cdp)
  const t0 = performance.now()
  const hooks = await page.evaluate(
    ([rate, perTask]) => window.bench.start(rate, perTask),
    [RATE, ONE_TASK ? n : 1],
  )
  // The floor delivers what the run it replays delivered (a run that overflowed its queue sent less).
  const expected = kind === 'baseline' ? 0 : kind === 'floor' ? ctx.replayed : n
  const r = server.run(tag)
  const hooksDone = performance.now()
  let delivered = false
  const deadline = hooksDone + RUN_TIMEOUT_MS
  while (!delivered && performance.now() < deadline) {
    // Every event at the server; or a quiet second and a half with nothing left queued in the
    // page (rows the setup dropped, e.g. pushed out of a full queue, never arrive).
    // Only a setup that reports what it holds (this plugin's `stats`) can end a run this way;
    // Segment.io's keeps no counters, so its runs end when every event is in or at the timeout.
    const quiet = () =>
      (kind === 'ours' || kind === 'before') &&
      performance.now() - Math.max(r.lastAt, hooksDone) > 1500
    delivered = await waitUntil(
      () => r.ids.size >= expected || quiet(),
      deadline - performance.now(),
    )
    if (delivered && r.ids.size < expected) {
      const stats = await page.evaluate(() => window.bench.stats())
      if (!stats || stats.queued === 0) break
      delivered = false
      await sleep(500)
    }
  }
  const wallMs = (kind === 'baseline' ? performance.now() : r.lastAt || performance.now()) - t0
  await sleep(SETTLE_MS)
  const after = await taskSeconds(cdp)
  const trace = TRACE && (await browser.stopTracing()).toString('utf8')
  if (TRACE_DETAIL) process.stderr.write(`  ${kind} run ${runNo}:\n`)
  const { longestMs: longest, tasks } = trace
    ? longestTask(trace, ONE_TASK && hooks.hookMs, !!ctx.pageView)
    : { longestMs: NaN }
  const end = await page.evaluate(() => window.bench.finish())
  if (kind === 'ours') Object.assign(ctx, { bodies: r.bodies, replayed: r.ids.size })
  r.bodies = []
  return {
    kind,
    n,
    run: runNo,
    taskMs: (after - before) * 1000,
    longestMs: longest,
    hookMs: hooks.hookMs,
    longestCallMs: hooks.longestCall,
    loadMs: hooks.loadMs,
    tasks,
    wallMs,
    complete: r.ids.size >= expected,
    requests: r.requests,
    wireBytes: r.bodyBytes + r.headerBytes,
    bodyBytes: r.bodyBytes,
    events: r.events,
    delivered: r.ids.size,
    repeats: r.repeats,
    stats: end.stats,
    dropped: Object.values(end.stats?.dropped ?? {}).reduce((a, b) => a + b, 0),
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and printing.
const median = (xs) => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (!s.length) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const range = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x))
  return s.length ? [Math.min(...s), Math.max(...s)] : [NaN, NaN]
}
const num = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : '–')
const stat = (xs, digits) => {
  const [lo, hi] = range(xs)
  return `${num(median(xs), digits)} (${num(lo, digits)}–${num(hi, digits)})`
}

function summarise(results) {
  const rows = []
  const summary = {}
  for (const n of SIZES) {
    const of = (kind) => results.filter((r) => r.n === n && r.kind === kind)
    const base = new Map(of('baseline').map((r) => [r.rep, r]))
    for (const kind of SETUPS) {
      const runs = of(kind)
      if (!runs.length) continue
      // Paired with the baseline run of the same repetition.
      const added = runs.map((r) => r.taskMs - (base.get(r.rep)?.taskMs ?? NaN))
      const s = {
        n,
        kind,
        runs: runs.length,
        taskMs: runs.map((r) => r.taskMs),
        addedMs: added,
        perEventMs: added.map((a) => a / n),
        longestMs: runs.map((r) => r.longestMs),
        requests: runs.map((r) => r.requests),
        bytesPerEvent: runs.map((r) => r.wireBytes / Math.max(r.delivered, 1)),
        bodyPerEvent: runs.map((r) => r.bodyBytes / Math.max(r.delivered, 1)),
        delivered: runs.map((r) => r.delivered),
        repeats: runs.map((r) => r.repeats),
        dropped: runs.map((r) => r.dropped ?? 0),
        wallMs: runs.map((r) => r.wallMs),
      }
      summary[`${kind}@${n}`] = s
      rows.push(s)
    }
  }
  return { rows, summary }
}

function printMain({ rows, summary }) {
  const lines = [
    '| N | setup | main thread, total ms | added ms / event | longest task ms | requests | bytes / event on the wire (body) | delivered | time to deliver ms |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const s of rows) {
    const isBase = s.kind === 'baseline'
    lines.push(
      `| ${s.n.toLocaleString('en')} | ${LABEL[s.kind]} | ${stat(s.taskMs, 1)} | ${isBase ? '—' : stat(s.perEventMs, 4)} | ${stat(s.longestMs, 1)} | ${isBase ? '—' : num(median(s.requests), 0)} | ${isBase ? '—' : `${num(median(s.bytesPerEvent), 0)} (${num(median(s.bodyPerEvent), 0)})`} | ${isBase ? '—' : `${num(median(s.delivered), 0)}/${s.n}${Math.min(...s.delivered) < s.n ? ` (${Math.min(...s.delivered)}–${Math.max(...s.delivered)}; ${Math.max(...s.dropped) ? 'the rest dropped by the setup' : 'the rest not in by the timeout'})` : ''}${Math.max(...s.repeats) ? ` (+${Math.max(...s.repeats)} repeats)` : ''}`} | ${isBase ? '—' : stat(s.wallMs, 0)} |`,
    )
  }
  const skipped = SIZES.filter((n) => n > SEGMENT_MAX_N)
  if (skipped.length) {
    lines.push(
      `| ${skipped.map((n) => n.toLocaleString('en')).join(', ')} | ${LABEL.segment} | not run: its cost per event grows with the backlog (BENCH_SEGMENT_MAX_N=${SEGMENT_MAX_N}) | | | | | | |`,
    )
  }
  console.log(lines.join('\n'))

  const at = (kind, n) => summary[`${kind}@${n}`]
  const verdicts = []
  const check = (ok, text) => verdicts.push(`${ok ? 'PASS' : 'FAIL'}  ${text}`)
  const headline = []
  for (const n of SIZES) {
    const o = at('ours', n)
    const g = at('segment', n)
    if (!o) continue
    check(
      Math.max(...o.longestMs.filter(Number.isFinite)) <= 50,
      `N=${n}: no task over 50 ms (longest ${num(Math.max(...o.longestMs.filter(Number.isFinite)), 1)} ms)`,
    )
    check(
      Math.min(...o.delivered) === n && Math.max(...o.repeats) === 0,
      `N=${n}: every event delivered once (${Math.min(...o.delivered)}–${Math.max(...o.delivered)} of ${n})`,
    )
    if (!g) continue
    headline.push(
      `N=${n.toLocaleString('en')}: bytes/event ${num(median(o.bytesPerEvent), 0)} vs ${num(median(g.bytesPerEvent), 0)} → ours/Segment.io ${num(median(o.bytesPerEvent) / median(g.bytesPerEvent), 2)}; ` +
        `added main thread/event ${num(median(o.perEventMs), 4)} vs ${num(median(g.perEventMs), 4)} ms → ${num(median(o.perEventMs) / median(g.perEventMs), 2)}; ` +
        `requests ${num(median(o.requests), 0)} vs ${num(median(g.requests), 0)}`,
    )
    check(
      median(o.bytesPerEvent) < median(g.bytesPerEvent),
      `N=${n}: fewer bytes per event than Segment.io`,
    )
    check(
      median(o.perEventMs) < median(g.perEventMs),
      `N=${n}: less added main-thread time per event than Segment.io (${num(median(o.perEventMs) / median(g.perEventMs), 2)} of its time)`,
    )
  }
  const o1k = at('ours', 1000)
  const o10k = at('ours', 10000)
  // Main-thread time is judged beside Segment.io (the headline's ratio), not against a figure of
  // its own: what a request costs depends on the machine and the browser.
  const f1k = at('floor', 1000)
  if (o1k && f1k) {
    verdicts.push(
      `info  added main-thread time per event at N=1,000 ${num(median(o1k.perEventMs), 4)} ms, of which the requests alone (floor: the same bodies, prebuilt) ${num(median(f1k.perEventMs), 4)} ms; the plugin's own work ${num(median(o1k.perEventMs) - median(f1k.perEventMs), 4)} ms`,
    )
  }
  if (o1k && o10k) {
    const ratio = median(o10k.addedMs) / median(o1k.addedMs)
    const text = `flat from 1k to 10k: added total 10k/1k = ${num(ratio, 1)}× (≤ 11×)`
    // Rows the setup dropped cost no request: the totals then do not compare.
    if (Math.min(...o10k.delivered) < 10000 || Math.min(...o1k.delivered) < 1000) {
      verdicts.push(`n/a   ${text}, but events were dropped at 10k, so this does not compare`)
    } else check(ratio <= 11, text)
  }
  console.log(
    `\nHeadline (ours / Segment.io, medians):\n${headline.map((h) => `  ${h}`).join('\n')}`,
  )
  console.log(`\nTargets:\n${verdicts.map((v) => `  ${v}`).join('\n')}`)
}

// ---------------------------------------------------------------------------------------------
/**
 * `--profile ours|segment`: one run of N = BENCH_N's first size under the V8 CPU profiler;
 * prints where the main-thread time went (self time by function and by source file).
 */
async function profile(browser, origin, server, kind) {
  const pageView = MODE === 'page-view'
  const { page, cdp } = await openPage(browser, origin)
  const n = pageView
    ? await page.evaluate(() => window.bench.initPageView())
    : await page.evaluate((count) => window.bench.init(count), SIZES[0])
  // A page view is profiled cold, as a visitor's page runs it.
  if (!pageView) await runOnce({ browser, page, cdp, server }, kind, n, 90_001) // warm-up
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: pageView ? 25 : 100 })
  await cdp.send('Profiler.start')
  await runOnce({ browser, page, cdp, server, pageView }, kind, n, 90_002)
  const { profile: p } = await cdp.send('Profiler.stop')
  await page.close()
  const dt = new Map()
  p.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)))
  const byFn = new Map()
  const byFile = new Map()
  let total = 0
  for (const node of p.nodes) {
    const us = dt.get(node.id) ?? 0
    if (!us) continue
    const { functionName, url, lineNumber, columnNumber } = node.callFrame
    if (functionName === '(idle)' || functionName === '(program)') continue
    total += us
    const fn = `${functionName || '(anonymous)'} ${url ? `${url.split('/').pop()}:${lineNumber + 1}:${columnNumber + 1}` : ''}`
    byFn.set(fn, (byFn.get(fn) ?? 0) + us)
    const file = url ? url.split('/').pop() : functionName
    byFile.set(file, (byFile.get(file) ?? 0) + us)
  }
  const top = (m, k) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(
        ([name, us]) =>
          `  ${(us / 1000).toFixed(1).padStart(8)} ms  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${name}`,
      )
  console.log(
    `CPU profile, ${kind}, N=${n}: ${(total / 1000).toFixed(1)} ms of samples (idle excluded)`,
  )
  console.log(`by function (self time):\n${top(byFn, 25).join('\n')}`)
  console.log(`by source:\n${top(byFile, 10).join('\n')}`)
}

async function main() {
  const started = performance.now()
  console.log(`bench: bundling the page (analytics-next + dist/index.js)…`)
  const server = await startServer(await bundleApp())
  const origin = `http://127.0.0.1:${server.port}`
  const browser = await chromium.launch({ executablePath: CHROME_PATH, args: CHROME_ARGS })
  const results = []
  console.log(
    `bench: Chrome/${browser.version()}, ${availableParallelism()} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' ',
      )}${Object.keys(SETTINGS).length ? `, this plugin with ${JSON.stringify(SETTINGS)}` : ''}`,
  )
  try {
    if (profileKind) {
      await profile(browser, origin, server, profileKind)
      return
    }
    let runNo = 0
    const pageView = MODE === 'bursts' ? undefined : await runPageView(browser, origin, server)
    if (MODE === 'page-view') {
      if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ pageView }, null, 2))
      return
    }
    for (const n of SIZES) {
      const { page, cdp, errors } = await openPage(browser, origin)
      const ctx = { browser, page, cdp, server }
      await page.evaluate((count) => window.bench.init(count), n)
      // One unmeasured round first: code compiled, caches and connections warm for every setup.
      for (let rep = -1; rep < REPS; rep++) {
        const order = SETUPS.map((_, i) => SETUPS[(i + rep + 1) % SETUPS.length])
        for (const kind of order) {
          if (kind === 'segment' && n > SEGMENT_MAX_N) continue
          const r = await runOnce(ctx, kind, n, ++runNo)
          r.rep = rep
          if (rep < 0) continue
          results.push(r)
          process.stdout.write(
            `  N=${n} rep ${rep + 1}/${REPS} ${kind.padEnd(8)} task ${r.taskMs.toFixed(1)} ms, longest ${num(r.longestMs, 1)} ms, ${r.requests} req, ${r.delivered}/${kind === 'baseline' ? 0 : n} events${r.complete ? '' : ` (INCOMPLETE${r.dropped ? `: ${JSON.stringify(r.stats.dropped)} dropped` : ''})`}\n`,
          )
        }
      }
      if (errors.length)
        console.log(`  page errors: ${[...new Set(errors)].slice(0, 5).join(' | ')}`)
      await page.close()
    }
    console.log(
      `\n## Hook benchmark (${REPS} repetitions, medians with min–max; ${RATE ? `${RATE} events/s` : ONE_TASK ? 'all N hook calls in one task; longest task: besides that one' : 'hook calls back to back, one per task'})\n`,
    )
    const summary = summarise(results)
    printMain(summary)

    const pipeline = await runPipeline(browser, origin, server)
    const memory = await runMemory(browser, origin)
    if (jsonOut) {
      writeFileSync(jsonOut, JSON.stringify({ pageView, results, pipeline, memory }, null, 2))
    }
  } finally {
    await browser.close()
    server.server.close()
  }
  console.log(
    `load average at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  )
  console.log(`\nbench: done in ${((performance.now() - started) / 1000).toFixed(0)} s`)
}

// The page view: see the header. A fresh page per run; 10_000 + run numbers keep its lists apart.
async function runPageView(browser, origin, server) {
  console.log(`bench: page view, ${PAGE_VIEW_REPS} repetitions (+1 unmeasured)…`)
  const runs = []
  const shared = { browser, server, pageView: true }
  let runNo = 10_000
  for (let rep = -1; rep < PAGE_VIEW_REPS; rep++) {
    const order = PAGE_VIEW_SETUPS.map(
      (_, i) => PAGE_VIEW_SETUPS[(i + rep + 1) % PAGE_VIEW_SETUPS.length],
    )
    for (const kind of order) {
      // The floor replays the plugin's body: in the unmeasured round it runs after the plugin.
      if (kind === 'floor' && !shared.bodies) continue
      const { page, cdp, errors } = await openPage(browser, origin)
      await page.evaluate(() => localStorage.clear())
      const n = await page.evaluate(() => window.bench.initPageView())
      const r = await runOnce(Object.assign(shared, { page, cdp }), kind, n, ++runNo)
      await page.close()
      if (errors.length)
        console.log(`  page errors: ${[...new Set(errors)].slice(0, 5).join(' | ')}`)
      r.rep = rep
      if (rep < 0) continue
      runs.push(r)
      process.stdout.write(
        `  page view rep ${rep + 1}/${PAGE_VIEW_REPS} ${kind.padEnd(8)} task ${r.taskMs.toFixed(2)} ms, load() ${r.loadMs.toFixed(2)} ms, longest ${num(r.longestMs, 1)} ms, ${r.requests} req, ${r.delivered}/${kind === 'baseline' ? 0 : n}${r.complete ? '' : ' (INCOMPLETE)'}\n`,
      )
    }
  }
  const base = new Map(runs.filter((r) => r.kind === 'baseline').map((r) => [r.rep, r.taskMs]))
  const added = (kind) =>
    runs.filter((r) => r.kind === kind).map((r) => r.taskMs - (base.get(r.rep) ?? NaN))
  const of = (kind, field) => runs.filter((r) => r.kind === kind).map((r) => r[field])
  const floorMs = median(added('floor'))
  const segmentMs = median(added('segment'))
  console.log(
    `\n## Page view: load() + a page, an identify, 8 tracks until the server has them (${PAGE_VIEW_REPS} repetitions, a fresh page each, medians with min–max)\n`,
  )
  const lines = [
    '| setup | main thread added, ms | × floor | × Segment.io | load() ms | longest task ms | longest call, wall ms | requests | delivered | time to deliver ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const kind of PAGE_VIEW_SETUPS.filter((k) => k !== 'baseline')) {
    const ms = median(added(kind))
    lines.push(
      `| ${LABEL[kind]} | ${stat(added(kind), 2)} | ${num(ms / floorMs, 2)} | ${num(ms / segmentMs, 2)} | ${stat(of(kind, 'loadMs'), 2)} | ${stat(of(kind, 'longestMs'), 1)} | ${stat(of(kind, 'longestCallMs'), 1)} | ${num(median(of(kind, 'requests')), 0)} | ${num(median(of(kind, 'delivered')), 0)}/10 | ${stat(of(kind, 'wallMs'), 0)} |`,
    )
  }
  lines.push(
    `| ${LABEL.baseline} (subtracted) | total ${stat(of('baseline', 'taskMs'), 2)} | | | | ${stat(of('baseline', 'longestMs'), 1)} | ${stat(of('baseline', 'longestCallMs'), 1)} | | | |`,
  )
  console.log(lines.join('\n'))
  // The main thread's tasks by kind (thread time, medians; the baseline's not subtracted).
  const kinds = [
    '| tasks, by kind (ms, medians) | ' + PAGE_VIEW_SETUPS.map((k) => LABEL[k]).join(' | ') + ' |',
    `|---|${PAGE_VIEW_SETUPS.map(() => '---:').join('|')}|`,
    ...TASK_KINDS.map(
      (k) =>
        `| ${k} | ${PAGE_VIEW_SETUPS.map((setup) => num(median(of(setup, 'tasks').map((t) => t?.[k])), 2)).join(' | ')} |`,
    ),
  ]
  if (TRACE_DETAIL) console.log(`\n${kinds.join('\n')}`)
  const ours = median(added('ours'))
  const load = median(of('ours', 'loadMs'))
  const check = (ok, text) => console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${text}`)
  console.log('\nTargets:')
  check(ours <= 1.5 * floorMs, `page view ≤ 1.5× the floor (${num(ours / floorMs, 2)}×)`)
  check(ours <= 0.25 * segmentMs, `page view ≤ 0.25× Segment.io (${num(ours / segmentMs, 2)}×)`)
  check(load <= 1, `load() ≤ 1 ms (${num(load, 2)} ms)`)
  check(Math.max(...of('ours', 'longestMs').filter(Number.isFinite)) <= 50, 'no task over 50 ms')
  check(
    Math.min(...of('ours', 'delivered')) === 10 && Math.max(...of('ours', 'repeats')) === 0,
    'every event delivered once',
  )
  console.log('')
  return runs
}

// The whole pipeline: analytics.track() through analytics-next, with and without a destination.
async function runPipeline(browser, origin, server) {
  if (!PIPELINE_N) return undefined
  console.log(
    `\n## Whole pipeline: ${PIPELINE_N.toLocaleString('en')} × analytics.track() (${PIPELINE_REPS} repetitions)\n`,
  )
  const kinds = ['none', 'ours', 'segment']
  const label = {
    none: 'analytics-next, no destination',
    ours: '+ Selligent (this plugin)',
    segment: '+ Segment.io (batching 20/1 s)',
  }
  const runs = []
  let runNo = 0
  for (let rep = 0; rep < PIPELINE_REPS; rep++) {
    for (const kind of kinds.map((_, i) => kinds[(i + rep) % kinds.length])) {
      // A fresh page per run: every AnalyticsBrowser starts alike.
      const { page, cdp, errors } = await openPage(browser, origin)
      const tag = await page.evaluate(([k, r]) => window.bench.pipelineLoad(k, r), [kind, ++runNo])
      const r = server.run(tag)
      // The visitor's identify call is delivered before the measured tracks start.
      await waitUntil(() => kind === 'none' || r.ids.size >= 1, RUN_TIMEOUT_MS)
      const before0 = r.ids.size
      await cdp.send('HeapProfiler.collectGarbage')
      await sleep(100)
      const before = await taskSeconds(cdp)
      const t0 = performance.now()
      await page.evaluate((n) => window.bench.pipelineRun(n), PIPELINE_N)
      await waitUntil(() => kind === 'none' || r.ids.size - before0 >= PIPELINE_N, RUN_TIMEOUT_MS)
      const wallMs = performance.now() - t0
      await sleep(SETTLE_MS)
      const after = await taskSeconds(cdp)
      runs.push({
        kind,
        rep,
        taskMs: (after - before) * 1000,
        wallMs,
        delivered: r.ids.size - before0,
        requests: r.requests,
      })
      process.stdout.write(
        `  rep ${rep + 1} ${kind.padEnd(8)} task ${((after - before) * 1000).toFixed(1)} ms, ${r.ids.size - before0} delivered, ${(wallMs / 1000).toFixed(1)} s\n`,
      )
      if (errors.length)
        console.log(`  page errors: ${[...new Set(errors)].slice(0, 5).join(' | ')}`)
      await page.close()
    }
  }
  const base = median(runs.filter((r) => r.kind === 'none').map((r) => r.taskMs))
  const lines = [
    '| setup | main thread, total ms | ms / event | added by the destination, ms / event | delivered | wall time s |',
    '|---|---:|---:|---:|---:|---:|',
  ]
  for (const kind of kinds) {
    const of = runs.filter((r) => r.kind === kind)
    const task = of.map((r) => r.taskMs)
    lines.push(
      `| ${label[kind]} | ${stat(task, 0)} | ${num(median(task) / PIPELINE_N, 3)} | ${
        kind === 'none'
          ? '—'
          : stat(
              task.map((t) => (t - base) / PIPELINE_N),
              4,
            )
      } | ${kind === 'none' ? '—' : `${num(median(of.map((r) => r.delivered)), 0)}/${PIPELINE_N}`} | ${stat(
        of.map((r) => r.wallMs / 1000),
        1,
      )} |`,
    )
  }
  console.log(lines.join('\n'))
  return runs
}

// Memory: 10,000-event bursts with the server down (connection refused), everything queued.
const STORAGE_KEYS = { ours: '^selligent', segment: 'Segment\\.io' }
async function runMemory(browser, origin) {
  console.log(`\n## Memory: ${MEMORY_N.toLocaleString('en')}-event bursts with the server down\n`)
  // A port nothing listens on: "the server is down".
  const port = await freePort()
  const out = []
  for (const kind of ['ours', 'segment']) {
    const { page, cdp } = await openPage(browser, origin)
    await page.evaluate(() => localStorage.clear())
    await page.evaluate(() => window.bench.init(0))
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage')
      return (await cdp.send('Runtime.getHeapUsage')).usedSize
    }
    await page.evaluate(
      ([k, p]) =>
        window.bench.prepare(k, 9000, {
          proxyUrl: `http://127.0.0.1:${p}/smc`,
          apiHost: `127.0.0.1:${p}/seg`,
        }),
      [kind, port],
    )
    const h0 = await heap()
    const snapshots = []
    for (let burst = 1; burst <= 3; burst++) {
      // Fresh contexts (new message ids) each burst, handed over 100 per task.
      await page.evaluate((count) => window.bench.makeContexts(count), MEMORY_N)
      await page.evaluate(() => window.bench.start(0, 100))
      // Failed requests back off; coalesced storage writes land meanwhile.
      await sleep(3000)
      // The page lets its contexts go, as a site does once its calls resolved: what stays on
      // the heap is what the destination holds.
      await page.evaluate(() => window.bench.releaseContexts())
      const h = await heap()
      const storage = await page.evaluate((re) => window.bench.storageBytes(re), STORAGE_KEYS[kind])
      const stats = await page.evaluate(() => window.bench.stats())
      snapshots.push({
        burst,
        heapBytes: h - h0,
        storageChars: storage.chars,
        storageKeys: storage.keys.length,
        stats,
      })
    }
    await page.evaluate(() => window.bench.finish())
    await page.close()
    out.push({ kind, baseHeap: h0, snapshots })
  }
  const lines = [
    '| setup | after | heap held (MB) | localStorage (chars; UTF-16 bytes) | queued | of which in memory only | dropped |',
    '|---|---|---:|---:|---:|---:|---|',
  ]
  for (const { kind, snapshots } of out) {
    for (const s of snapshots) {
      lines.push(
        `| ${LABEL[kind]} | ${(s.burst * MEMORY_N).toLocaleString('en')} events | ${(s.heapBytes / 1e6).toFixed(2)} | ${s.storageChars.toLocaleString('en')}; ${(s.storageChars * 2).toLocaleString('en')} | ${s.stats?.queued ?? '–'} | ${s.stats?.memoryOnly ?? '–'} | ${s.stats ? JSON.stringify(s.stats.dropped) : '–'} |`,
      )
    }
  }
  console.log(lines.join('\n'))
  console.log(
    '\nBounds the transport documents (defaults), rows counted as stored (row JSON, id, attempt count): stored, maxQueueRows 5,000 and maxQueueBytes 1,000,000; held, maxMemoryRows 15,000 and maxMemoryBytes 15,000,000.',
  )
  return out
}

await main()
