// The demo's one server: the page, the built bundles, analytics-next's own build, the relay at
// /smc and the SMC simulator behind it. Nothing in it reaches the internet.
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { extname, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRelay, toNodeListener } from '../dist/relay.js'
import { smcBackend } from './smcBackend.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
/** URL prefix → directory served under it. */
const STATIC = [
  ['/dist/', resolve(root, 'dist')],
  ['/vendor/analytics-next/', resolve(root, 'node_modules/@segment/analytics-next/dist/umd')],
  ['/', resolve(root, 'demo/public')],
]
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
}
const TRAFFIC_KEPT = 300

const sendJson = (res, status, value) =>
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value))

async function serveFile(req, res) {
  const path = decodeURIComponent(new URL(req.url, 'http://demo').pathname)
  const [prefix, dir] = STATIC.find(([p]) => path.startsWith(p))
  const file = resolve(dir, `.${sep}${path.slice(prefix.length) || 'index.html'}`)
  if (!file.startsWith(dir + sep)) return sendJson(res, 404, { message: 'not found' })
  try {
    const body = await readFile(file)
    res
      .writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Cache-Control': 'no-store',
      })
      .end(body)
  } catch {
    sendJson(res, 404, { message: `not found: ${path}` })
  }
}

const readText = async (req) => {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Starts the demo.
 * @param {{ port?: number, host?: string, env?: Record<string, string | undefined> }} [options]
 */
export async function startDemoServer({ port = 8080, host = '127.0.0.1', env = {} } = {}) {
  const backend = smcBackend(env)
  if (backend.problems.length) throw new Error(backend.problems.join('\n'))
  /** What went over the wire: each request the relay answered, and each call SMC got. */
  const traffic = []
  let seq = 0
  const record = (entry) => {
    traffic.push({ seq: ++seq, at: Date.now(), ...entry })
    if (traffic.length > TRAFFIC_KEPT) traffic.shift()
  }
  const relay = createRelay({
    ...backend.relayOptions,
    log: (entry) => record({ kind: 'relay-log', entry }),
  })
  // The page's view of the wire: request and response of every call to the relay, beacons and
  // keepalive requests sent at page leave included (the page itself never sees their answers).
  const tracedRelay = async (request, client) => {
    const body = request.method === 'OPTIONS' ? '' : await request.clone().text()
    const response = await relay(request, client)
    const url = new URL(request.url)
    record({
      kind: 'relay',
      method: request.method,
      path: url.pathname,
      query: url.search.slice(1),
      contentType: request.headers.get('content-type') ?? '',
      fetchMode: request.headers.get('sec-fetch-mode') ?? '',
      body,
      status: response.status,
      response: await response.clone().text(),
    })
    return response
  }
  const relayListener = toNodeListener(tracedRelay)
  const simulator = backend.simulator
  const simulatorListener = simulator?.nodeListener

  const info = {
    mode: backend.mode,
    organization: backend.relayOptions.organization,
    eventsList: backend.relayOptions.eventsList ?? 'segment_events',
    segments: backend.relayOptions.segments ?? [],
    // Direct mode against the simulator needs its made-up credentials; a tenant's stay here.
    direct: backend.mode === 'simulator' ? backend.directCredentials : undefined,
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/smc' || path.startsWith('/smc/')) {
      // The relay serves the target paths (docs/design.md#targets) at its root: the mount point
      // is not part of them.
      req.url = req.url.slice('/smc'.length) || '/'
      return relayListener(req, res)
    }
    if (path === '/__demo/info') return sendJson(res, 200, info)
    if (path === '/__demo/traffic') {
      const since = Number(new URL(req.url, 'http://demo').searchParams.get('since')) || 0
      return sendJson(res, 200, { seq, entries: traffic.filter((e) => e.seq > since) })
    }
    if (path === '/__demo/traffic/reset' && req.method === 'POST') {
      traffic.length = 0
      return sendJson(res, 200, { seq })
    }
    if (path.startsWith('/__smc/') || path.startsWith('/Portal/Api/')) {
      if (simulatorListener) return simulatorListener(req, res)
      return sendJson(res, 404, { message: 'a real SMC tenant is configured: no simulator' })
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return void readText(req).then(() => sendJson(res, 405, { message: 'method not allowed' }))
    }
    void serveFile(req, res)
  })
  await new Promise((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolveListen(undefined))
  })
  const address = server.address()
  return {
    url: `http://localhost:${address.port}/`,
    mode: backend.mode,
    close: () =>
      new Promise((done) => {
        server.close(() => done(undefined))
        server.closeAllConnections()
      }),
  }
}
