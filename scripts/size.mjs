#!/usr/bin/env node
// Size budgets (docs/design.md#size-and-speed-targets), run by `npm test` right after the build;
// exits 1 when a bundle is over its budget or a browser budget is over the cap.
//
// What is measured, all after the build, from the files that ship:
// - dist/index.js "as a bundler would ship it": rollup bundles it in memory (every export kept,
//   so this is the most a site can pay), terser minifies it (module, passes 2), brotli (quality 11)
//   compresses it.
// - dist/selligent.iife.min.js as it ships (already minified by the build), brotli-compressed.
// - dist/relay.js (server side) bundled with its chunks and minified the same way, for its own
//   budget: edge runtimes limit script size, and a lean relay starts fast. Its dependency tldts
//   (the Public Suffix List) is shown beside it, outside the budget: it is updated on its own.
// Each must contain no analytics-next code: the ESM bundle imports nothing at all (analytics-next is
// a peer dependency, imported as types only), and none of analytics-next's distinctive strings
// appears in the browser bundles.
//
// Per-module breakdown: the minified bundle's source map (chained through rollup back to src/)
// attributes every minified byte to the src module it came from ("min" column, exact). The brotli
// size cannot be split exactly (the compressor shares context across modules), so two views:
// "br share" = the total brotli size split in proportion to minified bytes (adds up to the total),
// and "br if cut" = how much smaller the compressed bundle gets when that module's bytes are
// removed (the marginal cost; these add up to a little less than the total).
//
// `npm run size -- --write` also writes these figures, with the date and commit, into
// docs/performance.md between its size-table markers; `npm test` only checks.
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { brotliCompressSync, constants } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { dirname, resolve, relative } from 'node:path'
import { rollup } from 'rollup'
import terser from '@rollup/plugin-terser'
import * as prettier from 'prettier'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const KB = 1024
/**
 * Budgets in bytes, min + brotli: what fails the build. The browser ones are a ratchet, set just
 * above what the bundles weigh, so a regression fails CI. A feature may raise them by its
 * measured cost, and a change that makes the code clearly easier to read by what its issue
 * allows, never past {@link CAP}. Their history is in docs/performance.md ("Size budgets").
 */
const BUDGET = {
  esm: 7839,
  iife: 8176,
  // Server side: set from what the relay weighed when it landed, plus headroom, then raised by
  // what scale-out, then a security review's fixes, then authorization (allowed segments, signed
  // identity, limits by cost, isolation by halves) measurably cost (docs/relay-scale-out.md,
  // "Size"), then by what the relay's tidying cost: modules of one purpose each (77 B), and its
  // Lua scripts written readably, with names and whitespace the minifier cannot strip (117 B),
  // then by what paying back only the calls spent beyond the budget after an outage cost (142 B),
  // then by SMC's answer parsed once, its redacted text and value kept together (33 B).
  relay: 10 * KB + 2707 + 1552 + 1559 + 194 + 142 + 33,
}
/** The hard cap of each browser bundle (8 KB): no budget may exceed it. */
const CAP = 8192
// Strings only analytics-next's own code carries (cookie names, its hosts, its plugin and
// middleware names): any of them in a browser bundle means analytics-next was bundled.
const ANALYTICS_NEXT_MARKERS = [
  'ajs_anonymous_id',
  'ajs_user_id',
  'api.segment.io',
  'cdn.segment.com',
  'Segment.io',
  'message_dispatched',
  'middleware_cancellation',
  'addSourceMiddleware',
  'tsub-middleware',
  'X-Retry-Count',
]

const brotli = (text) =>
  brotliCompressSync(Buffer.from(text), {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(text),
    },
  }).length

const fmt = (bytes) => `${bytes} B (${(bytes / KB).toFixed(2)} KB)`
const problems = []
/** What `--write` puts in docs/performance.md: each bundle's verdict and its modules. */
const measured = []

/** Loads dist files together with their source maps, so the final map points into src/. */
const withSourceMaps = {
  name: 'load-with-source-maps',
  load(id) {
    if (!existsSync(`${id}.map`)) return null
    return { code: readFileSync(id, 'utf8'), map: readFileSync(`${id}.map`, 'utf8') }
  },
}

const SIZE_TABLE_FILE = resolve(root, 'docs/performance.md')
const SIZE_TABLE = /(<!-- size-table:start -->\n)[\s\S]*?(<!-- size-table:end -->)/

/** Rewrites the size table of docs/performance.md from `measured`. */
async function writeSizeTable() {
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root })
  const n = (bytes) => bytes.toLocaleString('en-US')
  const lines = [
    `Written by \`npm run size -- --write\` on ${new Date().toISOString().slice(0, 10)} at commit \`${String(commit).trim()}\`${problems.length ? ' (with budgets failing)' : ''}.`,
    '',
    `| bundle | min + brotli | budget | cap: ${n(CAP)} B |`,
    '| --- | ---: | ---: | ---: |',
    ...measured.map(
      ({ label, size, budget, capped }) =>
        `| \`${label}\` | ${n(size)} B | ${n(budget)} B | ${capped ? `${n(CAP - size)} B below` : '—'} |`,
    ),
  ]
  for (const { label, modules } of measured.filter((bundle) => bundle.modules.length)) {
    lines.push(
      '',
      `\`${label}\` by module (bytes; "br if cut": how much smaller the compressed bundle gets without it):`,
      '',
      '| module | min | br share | br if cut |',
      '| --- | ---: | ---: | ---: |',
      ...modules.map((m) => `| \`${m.name}\` | ${n(m.min)} | ${n(m.share)} | ${n(m.cut)} |`),
    )
  }
  const doc = readFileSync(SIZE_TABLE_FILE, 'utf8')
  if (!SIZE_TABLE.test(doc)) {
    problems.push('docs/performance.md has no size-table markers to write between')
    return
  }
  const written = doc.replace(SIZE_TABLE, `$1${lines.join('\n')}\n$2`)
  const options = await prettier.resolveConfig(SIZE_TABLE_FILE)
  writeFileSync(
    SIZE_TABLE_FILE,
    await prettier.format(written, { ...options, filepath: SIZE_TABLE_FILE }),
  )
  console.log('\nsize: docs/performance.md size table written.')
}

/** Bundles and minifies an entry the way a site's bundler would. */
async function bundleMinified(entry, external) {
  const bundle = await rollup({
    input: resolve(root, entry),
    external,
    plugins: [withSourceMaps],
    onwarn: () => {},
  })
  try {
    const { output } = await bundle.generate({
      format: 'es',
      sourcemap: true,
      // Modules loaded on demand (the relay's Node adapters) are counted too, in one chunk.
      inlineDynamicImports: true,
      plugins: [terser({ ecma: 2020, module: true, compress: { passes: 2 } })],
    })
    const [chunk] = output
    return {
      code: chunk.code,
      map: chunk.map,
      imports: [...chunk.imports, ...chunk.dynamicImports],
    }
  } finally {
    await bundle.close()
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
/** Decodes a source map's `mappings` into [line][segment] = [column, source?]. */
function decodeMappings(mappings) {
  const lines = []
  let source = 0
  for (const line of mappings.split(';')) {
    const segments = []
    let column = 0
    for (const text of line.split(',')) {
      if (!text) continue
      const fields = []
      let value = 0
      let shift = 0
      for (const char of text) {
        const digit = B64.indexOf(char)
        value += (digit & 31) << shift
        if (digit & 32) shift += 5
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1)
          value = 0
          shift = 0
        }
      }
      column += fields[0]
      if (fields.length > 1) {
        source += fields[1]
        segments.push([column, source])
      } else segments.push([column, -1])
    }
    lines.push(segments)
  }
  return lines
}

/** Byte ranges of the minified code per source module, from its source map. */
function rangesByModule(code, map) {
  const sources = map.sources.map((s) => {
    const path = s.replace(/^(\.\.\/)+/, '').replace(/^.*?\bsrc\//, 'src/')
    return path.startsWith('src/') ? path : relative(root, resolve(root, s))
  })
  const ranges = new Map()
  const add = (name, start, end) => {
    if (end <= start) return
    if (!ranges.has(name)) ranges.set(name, [])
    ranges.get(name).push([start, end])
  }
  const lines = code.split('\n')
  const mapped = decodeMappings(map.mappings)
  let offset = 0
  lines.forEach((line, i) => {
    const segments = mapped[i] ?? []
    // Code before a line's first mapping (or on an unmapped line) is rollup/terser glue.
    add('(glue)', offset, offset + (segments[0]?.[0] ?? line.length))
    segments.forEach(([column, source], j) => {
      const end = segments[j + 1]?.[0] ?? line.length
      add(source < 0 ? '(glue)' : sources[source], offset + column, offset + end)
    })
    offset += line.length + 1
  })
  return ranges
}

/** Per-module breakdown of a minified bundle: min bytes, brotli share, brotli if cut. */
function breakdown(code, map, total) {
  const ranges = rangesByModule(code, map)
  const rows = []
  for (const [name, spans] of ranges) {
    const min = spans.reduce((n, [a, b]) => n + (b - a), 0)
    let rest = ''
    let at = 0
    for (const [a, b] of [...spans].sort((x, y) => x[0] - y[0])) {
      rest += code.slice(at, a)
      at = b
    }
    rest += code.slice(at)
    rows.push({
      name,
      min,
      share: Math.round((total * min) / code.length),
      cut: total - brotli(rest),
    })
  }
  return rows.sort((a, b) => b.min - a.min)
}

function printBreakdown(rows) {
  const width = Math.max(...rows.map((r) => r.name.length), 6)
  console.log(
    `    ${'module'.padEnd(width)}  ${'min'.padStart(6)}  ${'br share'.padStart(8)}  ${'br if cut'.padStart(9)}`,
  )
  for (const r of rows) {
    console.log(
      `    ${r.name.padEnd(width)}  ${String(r.min).padStart(6)}  ${String(r.share).padStart(8)}  ${String(r.cut).padStart(9)}`,
    )
  }
}

function checkMarkers(label, code) {
  const found = ANALYTICS_NEXT_MARKERS.filter((m) => code.includes(m))
  if (found.length)
    problems.push(
      `${label} contains analytics-next code (found ${found.map((m) => `"${m}"`).join(', ')})`,
    )
}

/** Prints and checks a bundle's size against its budget; returns what `--write` records of it. */
function verdict(label, size, budget, capped) {
  const record = { label, size, budget, capped, modules: [] }
  measured.push(record)
  const ok = size <= budget
  const line = `  ${ok ? 'ok  ' : 'FAIL'} ${label}: ${fmt(size)} min+br, budget ${fmt(budget)} (${ok ? `${budget - size} B to spare` : `${size - budget} B over`})`
  console.log(line)
  if (capped) {
    const room = CAP - size
    console.log(`       cap ${fmt(CAP)}: ${room >= 0 ? `${room} B below` : `${-room} B over`}`)
    if (budget > CAP) {
      console.log(`  FAIL budget ${fmt(budget)} is over the cap by ${budget - CAP} B`)
      problems.push(
        `${label}'s budget of ${fmt(budget)} is over the ${fmt(CAP)} cap by ${budget - CAP} B; a budget may never exceed the cap`,
      )
    }
  }
  if (!ok)
    problems.push(
      `${label} is ${fmt(size)} min+br, over its budget of ${fmt(budget)} by ${size - budget} B`,
    )
  return record
}

for (const file of ['dist/index.js', 'dist/selligent.iife.min.js']) {
  if (!existsSync(resolve(root, file))) {
    console.error(`size: ${file} is missing; run \`npm run build\` first.`)
    process.exit(1)
  }
}

// ESM entry, as a bundler ships it.
const esmSource = readFileSync(resolve(root, 'dist/index.js'), 'utf8')
// Chunks of our own are bundled in; anything else (a package) stays outside and is reported.
const esm = await bundleMinified('dist/index.js', (id) => !/^[./]/.test(id))
const esmBr = brotli(esm.code)
console.log(
  `dist/index.js — bundled + terser + brotli 11 (raw ${esmSource.length} B, min ${esm.code.length} B)`,
)
const esmRecord = verdict('dist/index.js', esmBr, BUDGET.esm, true)
if (esm.imports.length) {
  problems.push(
    `dist/index.js imports ${esm.imports.join(', ')}: the browser entry must import nothing (analytics-next is a type-only peer)`,
  )
}
if (
  /\bfrom\s*['"]@segment\/|\bimport\s*\(?\s*['"]@segment\/|require\(\s*['"]@segment\//.test(
    esmSource,
  )
) {
  problems.push(
    'dist/index.js imports @segment/* at run time: analytics-next must be imported as types only',
  )
}
checkMarkers('dist/index.js', esm.code)
esmRecord.modules = breakdown(esm.code, esm.map, esmBr)
printBreakdown(esmRecord.modules)

// Script-tag bundle, as it ships.
const iifeCode = readFileSync(resolve(root, 'dist/selligent.iife.min.js'), 'utf8').replace(
  /\n?\/\/# sourceMappingURL=.*\s*$/,
  '',
)
const iifeBr = brotli(iifeCode)
console.log(`\ndist/selligent.iife.min.js — as built + brotli 11 (min ${iifeCode.length} B)`)
const iifeRecord = verdict('dist/selligent.iife.min.js', iifeBr, BUDGET.iife, true)
checkMarkers('dist/selligent.iife.min.js', iifeCode)
if (/\brequire\(|\bimport\s*\(/.test(iifeCode))
  problems.push('dist/selligent.iife.min.js loads other modules')
const iifeMapFile = resolve(root, 'dist/selligent.iife.min.js.map')
if (existsSync(iifeMapFile)) {
  const iifeMap = JSON.parse(readFileSync(iifeMapFile, 'utf8'))
  iifeRecord.modules = breakdown(iifeCode, iifeMap, iifeBr)
  printBreakdown(iifeRecord.modules)
}

// Relay, server side.
if (existsSync(resolve(root, 'dist/relay.js'))) {
  // Its optional peer dependencies (Redis client, metrics library) and its dependency tldts are
  // the site's, not counted in its budget; tldts is shown below it.
  const relay = await bundleMinified(
    'dist/relay.js',
    (id) =>
      id.startsWith('node:') ||
      id.startsWith('@segment/') ||
      id.startsWith('@redis/') ||
      id === 'prom-client' ||
      id === 'tldts',
  )
  const relayBr = brotli(relay.code)
  console.log(
    `\ndist/relay.js — bundled with its chunks + terser + brotli 11 (min ${relay.code.length} B)`,
  )
  const relayRecord = verdict('dist/relay.js', relayBr, BUDGET.relay, false)
  relayRecord.modules = breakdown(relay.code, relay.map, relayBr)
  printBreakdown(relayRecord.modules)
  if (relay.imports.some((id) => id.startsWith('@segment/')))
    problems.push('dist/relay.js imports analytics-next')
  // What an edge bundler adds for it: tldts's own minified ES build, mostly the suffix list.
  const tldtsDir = resolve(root, 'node_modules/tldts')
  const tldts = JSON.parse(readFileSync(resolve(tldtsDir, 'package.json'), 'utf8'))
  const tldtsBr = brotli(readFileSync(resolve(tldtsDir, 'dist/index.esm.min.js'), 'utf8'))
  console.log(
    `  and its dependency tldts ${tldts.version} (dist/index.esm.min.js, not budgeted): ${fmt(tldtsBr)} min+br`,
  )
} else {
  console.log('\ndist/relay.js — not built: its budget is skipped.')
}

if (process.argv.includes('--write')) await writeSizeTable()

if (problems.length) {
  console.error(
    `\nsize: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  )
  process.exit(1)
}
console.log('\nsize: every budget met.')
