#!/usr/bin/env node
// The package as a site installs it: `npm pack` (its prepack builds), the tarball installed into a
// throwaway consumer project outside the repository with analytics-next from the npm cache, then
// what a user does with it — import and require both entries, run the relay's CLI, compile
// TypeScript against its types — and publint and attw on the tarball. Run by `npm test`; exits 1
// naming every check that failed.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { CHROME_ARGS, CHROME_PATH } from './chromium.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'))
const analyticsNext = lock.packages['node_modules/@segment/analytics-next'].version
const bin = (name) => join(root, 'node_modules', '.bin', name)

/** Names each entry must expose, and names it must not (defaults are documented, not exported). */
const ENTRIES = {
  'selligent-analytics-plugin': {
    has: ['selligentPlugin', 'PLUGIN_NAME', 'validateSettings', 'SettingsError', 'DeliveryError'],
    hasNot: [],
  },
  'selligent-analytics-plugin/relay': {
    has: [
      'createRelay',
      'startRelayServer',
      'toNodeListener',
      'relayOptionsFromEnv',
      'RelayError',
      'RelayConfigError',
      'ENV_NAMES',
      'STANDARD_COLUMNS',
    ],
    hasNot: ['DEFAULT_MAX_ROWS', 'DEFAULT_PORT'],
  },
}

const failures = []
const check = (name, ok, detail = '') => {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : `\n       ${detail}`}`)
  if (!ok) failures.push(name)
}
const run = (command, args, cwd) => {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' })
  return { status: result.status, out: `${result.stdout}${result.stderr}`.trim() }
}

const work = mkdtempSync(join(tmpdir(), 'selligent-consumer-'))
try {
  console.log(`check-package: packing into ${work}`)
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  )
  const tarball = join(work, packed.filename)
  const files = packed.files.map((file) => file.path)
  check(
    'the tarball ships the bundles, their types and the license',
    [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/relay.js',
      'dist/relay-cli.js',
      'dist/selligent.iife.min.js',
      'dist/selligent.iife.d.ts',
      'LICENSE',
    ].every((file) => files.includes(file)),
    `files: ${files.length}`,
  )

  const consumer = join(work, 'consumer')
  execFileSync('mkdir', ['-p', consumer])
  writeFileSync(join(consumer, 'package.json'), '{ "name": "consumer", "private": true }\n')
  const install = run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      tarball,
      `@segment/analytics-next@${analyticsNext}`,
    ],
    consumer,
  )
  check('the tarball installs beside analytics-next', install.status === 0, install.out)

  for (const [entry, { has, hasNot }] of Object.entries(ENTRIES)) {
    for (const [how, code] of [
      [
        'import',
        `import(${JSON.stringify(entry)}).then((m) => console.log(Object.keys(m).join()))`,
      ],
      ['require', `console.log(Object.keys(require(${JSON.stringify(entry)})).join())`],
    ]) {
      const result = run(process.execPath, ['-e', code], consumer)
      const names = result.out.split('\n').pop().split(',')
      check(
        `${how}('${entry}') exposes its documented names`,
        result.status === 0 &&
          has.every((name) => names.includes(name)) &&
          !hasNot.some((name) => names.includes(name)),
        result.out,
      )
    }
  }

  // Source maps point into src/, which the tarball does not ship: they must carry the sources.
  const installed = join(consumer, 'node_modules', 'selligent-analytics-plugin')
  const maps = files.filter((file) => file.endsWith('.js.map'))
  const sourceless = maps.filter((file) => {
    const map = JSON.parse(readFileSync(join(installed, file), 'utf8'))
    return map.sources.some((_, i) => typeof map.sourcesContent?.[i] !== 'string')
  })
  check(
    'every source map carries the sources it names',
    maps.length > 0 && sourceless.length === 0,
    `maps: ${maps.length}; without sources: ${sourceless.join(', ')}`,
  )

  // A server that installs the package for the relay alone gets none of its optional peers.
  const relayOnly = join(work, 'relay-only')
  execFileSync('mkdir', ['-p', relayOnly])
  writeFileSync(join(relayOnly, 'package.json'), '{ "name": "relay-only", "private": true }\n')
  const alone = run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball],
    relayOnly,
  )
  const pulled = ['@segment/analytics-next', '@redis/client', 'prom-client'].filter((name) =>
    existsSync(join(relayOnly, 'node_modules', name)),
  )
  check(
    'installed alone, the package pulls in none of its optional peers',
    alone.status === 0 && pulled.length === 0,
    alone.status === 0 ? `pulled in: ${pulled.join(', ')}` : alone.out,
  )

  const cli = join(consumer, 'node_modules', '.bin', 'selligent-relay')
  const help = run(cli, ['--help'], consumer)
  const envNames = Object.values(
    (await import(join(consumer, 'node_modules/selligent-analytics-plugin/dist/relay.js')))
      .ENV_NAMES,
  )
  check(
    'selligent-relay --help lists every environment variable and exits 0',
    help.status === 0 && [...envNames, 'PORT', 'HOST'].every((name) => help.out.includes(name)),
    help.out,
  )
  const version = run(cli, ['--version'], consumer)
  check(
    'selligent-relay --version prints the version',
    version.status === 0 && version.out === pkg.version,
    version.out,
  )

  // In the browser, bundled by name with a mainstream bundler: the plugin registered from code, and
  // the script-tag bundle imported for its side effect, each delivering one track to a loopback
  // relay stand-in.
  const apps = {
    'by-name': `import { AnalyticsBrowser } from '@segment/analytics-next'
import { selligentPlugin } from 'selligent-analytics-plugin'
const plugin = selligentPlugin({ organization: 'acme', allowedEvents: ['Order Completed'], proxyUrl: '/smc', flushInterval: 0 })
const [analytics] = await AnalyticsBrowser.load(
  { writeKey: 'w', cdnSettings: { integrations: {} }, plugins: [plugin] },
  { integrations: { 'Segment.io': false }, disableClientPersistence: true },
)
await analytics.track('Order Completed', { app: 'by-name' })
`,
    // A classic script, as the drop-in reads its settings from its own tag (document.currentScript).
    iife: `import 'selligent-analytics-plugin/iife'
import { AnalyticsBrowser } from '@segment/analytics-next'
AnalyticsBrowser.load(
  { writeKey: 'w', cdnSettings: { integrations: {} } },
  { integrations: { 'Segment.io': false }, disableClientPersistence: true },
).then(([analytics]) => {
  window.analytics = analytics
  setTimeout(() => analytics.track('Order Completed', { app: 'iife' }), 100)
})
`,
  }
  const bundles = {}
  for (const [name, code] of Object.entries(apps)) {
    writeFileSync(join(consumer, `${name}.mjs`), code)
    const result = await build({
      entryPoints: [join(consumer, `${name}.mjs`)],
      absWorkingDir: consumer,
      bundle: true,
      format: name === 'iife' ? 'iife' : 'esm',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    })
    bundles[name] = result.outputFiles[0].text
  }
  const rows = []
  const server = createServer((request, response) => {
    const name = /^\/(by-name|iife)\b/.exec(request.url)?.[1]
    if (request.url.startsWith('/smc/')) {
      let body = ''
      request.on('data', (chunk) => (body += chunk))
      request.on('end', () => {
        rows.push(...JSON.parse(body))
        response.writeHead(200, { 'Content-Type': 'application/json' })
        response.end('{"result_code":"Succeeded","invalid_records":[]}')
      })
    } else if (request.url.endsWith('.js')) {
      response.writeHead(200, { 'Content-Type': 'text/javascript' })
      response.end(bundles[name])
    } else {
      // The drop-in reads its settings from its own script tag.
      const attributes =
        name === 'iife'
          ? ' data-organization="acme" data-allowed-events="Order Completed" data-proxy-url="/smc" data-flush-interval="0"'
          : ''
      response.writeHead(name ? 200 : 404, { 'Content-Type': 'text/html' })
      const type = name === 'iife' ? '' : ' type="module"'
      response.end(`<!doctype html><script${type} src="/${name}.js"${attributes}></script>`)
    }
  })
  await new Promise((done) => server.listen(0, '127.0.0.1', done))
  const browser = await chromium.launch({ executablePath: CHROME_PATH, args: CHROME_ARGS })
  try {
    for (const name of Object.keys(apps)) {
      const page = await browser.newPage()
      const errors = []
      page.on('pageerror', (error) => errors.push(String(error)))
      await page.goto(`http://127.0.0.1:${server.address().port}/${name}`)
      const arrived = () => rows.some((row) => row[1] === 'track' && row[6]?.includes(name))
      for (let waited = 0; !arrived() && waited < 10_000; waited += 100)
        await page.waitForTimeout(100)
      check(
        `a ${name} app bundled by esbuild delivers a track in Chromium`,
        arrived(),
        errors.join('; ') || `rows: ${JSON.stringify(rows)}`,
      )
      await page.close()
    }
  } finally {
    await browser.close()
    server.close()
  }

  // TypeScript, as a consumer compiles against the package's types.
  const source = `import { selligentPlugin, type SelligentSettings } from 'selligent-analytics-plugin'
import type { RelayOptions } from 'selligent-analytics-plugin/relay'
import 'selligent-analytics-plugin/iife'

const proxied: SelligentSettings = { organization: 'acme', allowedEvents: [], proxyUrl: '/smc' }
const direct: SelligentSettings = {
  organization: 'acme',
  allowedEvents: [],
  smcAdminUrl: 'https://acme.slgnt.us',
  apiKey: 'key',
  apiSecret: 'secret',
}
// @ts-expect-error settings name one mode: a relay, or SMC's credentials
const neither: SelligentSettings = { organization: 'acme', allowedEvents: [] }
export const plugins = [proxied, direct, neither].map(selligentPlugin)
export const fromScriptTag: typeof selligentPlugin = window.SelligentMarketingCloud.selligentPlugin
export const relayOptions: Partial<RelayOptions> = { eventsList: 'segment_events' }
`
  for (const [resolution, file, moduleKind] of [
    ['bundler', 'consumer.ts', 'esnext'],
    ['nodenext', 'consumer.mts', 'nodenext'],
  ]) {
    writeFileSync(join(consumer, file), source)
    const tsc = run(
      process.execPath,
      [
        join(root, 'node_modules/typescript/bin/tsc'),
        '--noEmit',
        '--strict',
        '--target',
        'es2022',
        '--lib',
        'es2022,dom',
        '--types',
        'node',
        '--typeRoots',
        join(root, 'node_modules/@types'),
        '--module',
        moduleKind,
        '--moduleResolution',
        resolution,
        file,
      ],
      consumer,
    )
    check(
      `TypeScript compiles a consumer (moduleResolution ${resolution})`,
      tsc.status === 0,
      tsc.out,
    )
  }

  const publint = run(bin('publint'), ['run', tarball, '--strict'], root)
  check(
    'publint --strict reports nothing',
    publint.status === 0 && !/\n\s*\d+\./.test(publint.out),
    publint.out,
  )
  // esm-only: the package is ES modules; Node ≥ 20.19 requires them from CommonJS (checked above).
  const attw = run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii'], root)
  check('attw (profile esm-only) reports nothing', attw.status === 0, attw.out)
} finally {
  rmSync(work, { recursive: true, force: true })
}

if (failures.length) {
  console.error(`\ncheck-package: ${failures.length} check(s) failed`)
  process.exit(1)
}
console.log('\ncheck-package: the tarball works as a site installs it.')
