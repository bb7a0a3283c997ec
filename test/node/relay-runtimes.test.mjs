// docs/relay.md's recipes ("Run it inside a site's app"), each read from the docs and run as
// written in its real runtime, installed from npm: node:http, Express, Fastify, Next.js (built and
// started), Cloudflare's workerd, Deno and Bun. Each gets the plugin's rows through to the SMC
// simulator under /smc, refuses what is outside it, and counts clients by the address its runtime
// reports: clients connect from loopback addresses of their own (127.0.0.x), or, on workerd, are
// named by `cf-connecting-ip` as Cloudflare's edge names them.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { build } from 'esbuild'
import { freePort } from '../../scripts/freePort.mjs'
import {
  API_KEY,
  API_SECRET,
  eventRow,
  EVENTS_PATH,
  EVENTS_QUERY,
  ORGANIZATION,
  rawRequest,
  useSimulator,
} from './harness.mjs'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BIN = join(ROOT, 'node_modules/.bin')
const DOCS = await readFile(join(ROOT, 'docs/relay.md'), 'utf8')
/** Where the recipes are written, each with the package linked into its node_modules. */
const WORK = join(ROOT, 'test-output/runtimes')
const RATE_LIMIT = 2
/** How long a runtime may take to listen; Next.js builds first. */
const START_TIMEOUT_MS = 120_000

/** The fenced block after `<!-- recipe: NAME -->` in docs/relay.md. @param {string} name */
function recipe(name) {
  const marker = `<!-- recipe: ${name} -->`
  const at = DOCS.indexOf(marker)
  assert.ok(at >= 0, `docs/relay.md has no ${marker} marker`)
  const code = /^```(?:js|ts)\n([\s\S]*?)^```/m.exec(DOCS.slice(at))?.[1]
  assert.ok(code, `no code block after ${marker}`)
  return code
}

/**
 * Writes `files` to a directory of the recipe's own in which `selligent-analytics-plugin` is this
 * package, as an app that installed it would have it. @param {string} name
 * @param {Record<string, string>} files
 */
async function appDir(name, files) {
  const dir = join(WORK, name)
  await rm(dir, { recursive: true, force: true })
  await mkdir(join(dir, 'node_modules'), { recursive: true })
  await symlink(ROOT, join(dir, 'node_modules/selligent-analytics-plugin'))
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true })
    await writeFile(join(dir, file), text)
  }
  return dir
}

const smc = useSimulator()

/** The relay's configuration, as the recipes read it from their environment. */
const relayEnv = () => ({
  SMC_ADMIN_URL: smc.url,
  SMC_ORGANIZATION: ORGANIZATION,
  SMC_API_KEY: API_KEY,
  SMC_API_SECRET: API_SECRET,
  RELAY_RATE_LIMIT_PER_CLIENT: String(RATE_LIMIT),
  RELAY_COALESCE_WINDOW_MS: '20',
})

/**
 * Starts `command` and resolves once `url` answers HTTP; its output is kept for the failure
 * message. @param {string} url @param {string} command @param {string[]} args @param {object} options
 */
async function serve(url, command, args, options) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited ${child.exitCode}: ${output}`)
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`${command} did not listen within ${START_TIMEOUT_MS} ms: ${output}`)
    }
    try {
      await fetch(`${url}/smc/status`)
      return { stop, output: () => output }
    } catch {
      await sleep(100)
    }
  }
}

/**
 * POSTs rows to `path` as the plugin does from a page of the site (same-origin, `text/plain`),
 * from `client`: a loopback address to connect from, or headers the platform adds.
 * @param {string} url @param {string} path @param {string[][]} rows
 * @param {{ localAddress?: string, headers?: Record<string, string> }} client
 */
function post(url, path, rows, client) {
  const { port } = new URL(url)
  return rawRequest({
    port,
    localAddress: client.localAddress,
    path,
    headers: {
      Origin: `http://127.0.0.1:${port}`,
      'Content-Type': 'text/plain',
      ...client.headers,
    },
    body: JSON.stringify(rows),
  })
}

const stored = () => smc.sim.state().lists.segment_events?.records.map((r) => r.fields.EVENT_ID)

/**
 * The checks every recipe passes. `start` writes and starts it on `port`, resolving with `stop`;
 * `clientAt(n)` is the n-th client as the runtime tells clients apart.
 * @param {string} name
 * @param {(port: number) => Promise<{ stop: () => Promise<void>, output: () => string }>} start
 * @param {(n: number) => { localAddress?: string, headers?: Record<string, string> }} clientAt
 */
function checkRecipe(name, start, clientAt) {
  describe(`docs/relay.md's ${name} recipe, run in ${name}`, () => {
    let server
    let url
    before(async () => {
      const port = await freePort()
      url = `http://127.0.0.1:${port}`
      server = await start(port)
    })
    after(() => server?.stop())
    const events = `/smc${EVENTS_PATH}?${EVENTS_QUERY}`

    test("the plugin's rows of two pages reach SMC through /smc, each page answered", async () => {
      const [first, second] = await Promise.all([
        post(url, events, [eventRow(`${name}-1`), eventRow(`${name}-2`)], clientAt(1)),
        post(url, events, [eventRow(`${name}-3`)], clientAt(2)),
      ])
      for (const sent of [first, second]) {
        assert.equal(sent.status, 200, `${sent.text}\n${server.output()}`)
        assert.equal(JSON.parse(sent.text).result_code, 'Succeeded')
      }
      assert.deepEqual(stored()?.sort(), [`${name}-1`, `${name}-2`, `${name}-3`])
    })

    test('rows outside /smc are not relayed', async () => {
      const sent = await post(
        url,
        `${EVENTS_PATH}?${EVENTS_QUERY}`,
        [eventRow('root')],
        clientAt(3),
      )
      assert.equal(sent.status, 404, sent.text)
      assert.deepEqual(stored() ?? [], [])
    })

    test('the address the runtime reports reaches the per-client limit', async () => {
      const statuses = []
      for (let i = 0; i <= RATE_LIMIT; i++) {
        statuses.push((await post(url, events, [eventRow(`limited-${i}`)], clientAt(4))).status)
      }
      assert.deepEqual(statuses, [...Array(RATE_LIMIT).fill(200), 429])
      const other = await post(url, events, [eventRow('other')], clientAt(5))
      assert.equal(other.status, 200, `another client is counted on its own: ${other.text}`)
    })
  })
}

/** Clients told apart by the address they connect from. @param {number} n */
const loopbackClient = (n) => ({ localAddress: `127.0.0.${10 + n}` })

/** A recipe that is one server file, run by `command` with `args` before the file's name. */
const serverFile = (name, command, args) => async (port) => {
  const dir = await appDir(name, { 'server.mjs': recipe(name) })
  return serve(`http://127.0.0.1:${port}`, command, [...args, 'server.mjs'], {
    cwd: dir,
    env: { PATH: process.env.PATH, ...relayEnv(), PORT: String(port) },
  })
}

checkRecipe('node', serverFile('node', process.execPath, []), loopbackClient)
checkRecipe('express', serverFile('express', process.execPath, []), loopbackClient)
checkRecipe('fastify', serverFile('fastify', process.execPath, []), loopbackClient)
checkRecipe(
  'deno',
  serverFile('deno', join(BIN, 'deno'), [
    'run',
    '--allow-net',
    '--allow-env',
    '--allow-read',
    '--node-modules-dir=manual',
  ]),
  loopbackClient,
)
checkRecipe('bun', serverFile('bun', join(BIN, 'bun'), []), loopbackClient)

checkRecipe(
  'next',
  async (port) => {
    const dir = await appDir('next', {
      'app/smc/[...path]/route.ts': recipe('next'),
      'app/layout.tsx':
        'export default function Layout({ children }: { children: React.ReactNode }) {\n  return <html><body>{children}</body></html>\n}\n',
      'package.json': '{ "private": true }\n',
    })
    const env = { PATH: process.env.PATH, NEXT_TELEMETRY_DISABLED: '1' }
    const next = join(BIN, 'next')
    const built = spawn(next, ['build'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    built.stdout.on('data', (chunk) => (output += chunk))
    built.stderr.on('data', (chunk) => (output += chunk))
    const [code] = await once(built, 'exit')
    assert.equal(code, 0, `next build failed: ${output}`)
    return serve(
      `http://127.0.0.1:${port}`,
      next,
      ['start', '--port', String(port), '--hostname', '127.0.0.1'],
      { cwd: dir, env: { ...env, ...relayEnv() } },
    )
  },
  loopbackClient,
)

checkRecipe(
  'workers',
  async (port) => {
    const dir = await appDir('workers', { 'worker.js': recipe('workers') })
    // What wrangler does before it hands a Worker to workerd: one ES module, bundled by esbuild.
    await build({
      entryPoints: [join(dir, 'worker.js')],
      outfile: join(dir, 'bundle.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['workerd', 'worker', 'browser'],
      // Loaded only by startRelayServer, which a Worker never calls.
      external: ['node:*', '@redis/client', 'prom-client'],
      logLevel: 'silent',
    })
    const bindings = Object.entries(relayEnv())
      .map(([name, value]) => `(name = "${name}", text = ${JSON.stringify(value)})`)
      .join(', ')
    await writeFile(
      join(dir, 'config.capnp'),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .relay),
    # The simulator stands for SMC on loopback, which Workers may not reach by default.
    (name = "outbound", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const relay :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "bundle.js")],
  compatibilityDate = "2025-01-01",
  bindings = [${bindings}],
  globalOutbound = "outbound",
);
`,
    )
    return serve(
      `http://127.0.0.1:${port}`,
      join(BIN, 'workerd'),
      ['serve', 'config.capnp', '--verbose'],
      { cwd: dir, env: { PATH: process.env.PATH } },
    )
  },
  (n) => ({ headers: { 'CF-Connecting-IP': `203.0.113.${n}` } }),
)
