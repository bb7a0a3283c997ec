#!/usr/bin/env node
// `npm run bench:request`: what one fetch costs this Chromium's renderer, with no DevTools
// attached (the main benchmark's DevTools session could be suspected of inflating it). The page
// sends N requests per kind one after another (empty body; a 58 KB body as a Blob, as this plugin
// sends it; the same as a string) and marks each phase with a request to the local server, which
// reads the renderer processes' CPU time (utime + stime in /proc, all renderer threads) at every
// mark. Linux only. Prints ms of renderer CPU per request, per repetition. Every renderer thread
// counts, not only the main thread the main benchmark measures: a Blob body costs more here than a
// string one, yet less on the main thread, where the main benchmark found it the cheaper one.
import { spawn, execFileSync } from 'node:child_process'
import { createServer } from 'node:http'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CHROME_ARGS, CHROME_PATH } from '../scripts/chromium.mjs'

const N = Number(process.env.BENCH_REQUESTS ?? 100)
// The first repetition warms up (page load, compilation) and is not printed.
const REPS = 4
const KINDS = ['idle', 'empty', 'blob', 'string']
// /proc counts CPU time in clock ticks (USER_HZ: 100 on Linux).
const MS_PER_TICK = 10

const page = `<!doctype html><meta charset="utf-8"><script>
const mark = (name) => fetch('/mark?' + name).then((r) => r.text())
// ~58 KB of ASCII rows, the size of this plugin's requests in the main benchmark.
const text = JSON.stringify(Array.from({ length: 58 }, () => 'x'.repeat(1000)))
// A new string per request, as a plugin builds its bodies: Blink caches the conversion of a
// string it has seen, so sending one constant string again and again would cost less than real use.
const fresh = () => '[' + text.slice(1)
const send = (body) => fetch('/in', { method: 'POST', body, keepalive: body !== null,
  headers: { 'Content-Type': 'text/plain' } }).then((r) => r.text())
const phases = {
  idle: () => new Promise((done) => setTimeout(done, 0)),
  empty: () => send(null),
  blob: () => send(new Blob([fresh()])),
  string: () => send(fresh()),
}
;(async () => {
  for (let rep = 0; rep < ${REPS}; rep++) {
    for (const kind of ${JSON.stringify(KINDS)}) {
      await mark('start')
      for (let i = 0; i < ${N}; i++) await phases[kind]()
      await mark(kind)
    }
  }
  await mark('done')
})()
</script>`

/** CPU time of the renderer processes descended from `browserPid`, in ms. */
function rendererCpuMs(browserPid) {
  const processes = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,args='])
    .toString()
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
  const ours = new Set([String(browserPid)])
  // Children are listed after their parents only by chance: repeat until nothing is added.
  for (let size = 0; size !== ours.size;) {
    size = ours.size
    for (const [pid, ppid] of processes) if (ours.has(ppid)) ours.add(pid)
  }
  let ticks = 0
  for (const [pid, , ...args] of processes) {
    if (!ours.has(pid) || !args.includes('--type=renderer')) continue
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // gone meanwhile
    }
  }
  return ticks * MS_PER_TICK
}

const profile = mkdtempSync(join(tmpdir(), 'request-cost-'))
const results = Object.fromEntries(KINDS.map((kind) => [kind, []]))
let started = 0
let chrome
const finished = new Promise((done) => {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    if (url.pathname === '/in') {
      req.resume()
      req.on('end', () => res.end('{"result_code":"Succeeded"}'))
    } else if (url.pathname === '/mark') {
      const name = url.search.slice(1)
      const now = rendererCpuMs(chrome.pid)
      if (name === 'start') started = now
      else if (name !== 'done') results[name].push((now - started) / N)
      res.end('ok')
      if (name === 'done') done(server)
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page)
    }
  })
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address()
    chrome = spawn(
      CHROME_PATH,
      [...CHROME_ARGS, `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/`],
      // Its own process group, so that every process it starts goes with it.
      { stdio: 'ignore', detached: true },
    )
  })
})
const timeout = setTimeout(() => {
  console.error('bench:request: the page did not finish in 120 s')
  process.exit(1)
}, 120_000)
const server = await finished
clearTimeout(timeout)
const exited = new Promise((done) => chrome.once('exit', done))
process.kill(-chrome.pid)
await exited
server.close()
rmSync(profile, { recursive: true, force: true, maxRetries: 10 })

console.log(
  `Renderer CPU per request, ${N} requests one after another, no DevTools attached (ms; ${REPS - 1} repetitions; resolution ${(MS_PER_TICK / N).toFixed(2)} ms):`,
)
const label = {
  idle: 'a timer task instead (the page floor)',
  empty: 'fetch, no body',
  blob: 'keepalive fetch, 58 KB Blob body',
  string: 'keepalive fetch, 58 KB string body',
}
for (const kind of KINDS) {
  console.log(
    `  ${label[kind].padEnd(40)} ${results[kind]
      .slice(1)
      .map((ms) => ms.toFixed(2))
      .join('  ')}`,
  )
}
