// Users learn the defaults from the README ("Settings"), docs/delivery.md ("Tuning settings"),
// docs/relay.md ("Configuration") and from each option's TSDoc `Default …`; validation runs on the tables in
// code (the plugin's SETTING_RULES, the relay's RELAY_DEFAULTS). Every one of those documents is
// held to the tables here, so a default changed in one place and not the others fails the build.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { isDeepStrictEqual } from 'node:util'
import { importSource } from './importSource.mjs'

const ROOT = new URL('../../', import.meta.url)
const read = (path) => readFileSync(new URL(path, ROOT), 'utf8')

const { SETTING_RULES, SETTING_KEYS, STANDARD_COLUMNS, RELAY_DEFAULTS } = await importSource(`
  export { SETTING_RULES, SETTING_KEYS } from './src/plugin/resolveSettings.ts'
  export { STANDARD_COLUMNS } from './src/smc/columns.ts'
  export { RELAY_DEFAULTS } from './src/relay/config/relayDefaults.ts'
`)

/** Each plugin setting's default; `undefined` for those without one (required, or mode-dependent). */
const PLUGIN_DEFAULTS = new Map(SETTING_KEYS.map((key) => [key, undefined]))
for (const [key, { fallback_: fallback }] of Object.entries(SETTING_RULES))
  PLUGIN_DEFAULTS.set(key, fallback)

/**
 * Defaults the docs give in words rather than as a value: the wordings accepted for each (docs
 * and TSDoc may phrase them differently), and the value in code they describe, so that changing
 * that value fails here too. `undefined`: the option is simply left unset.
 */
const WORDED_PLUGIN = {
  columns: { code: {}, words: ['the nine standard columns'] },
  consentCategories: { code: [], words: ['none', 'none: no consent check'] },
}
const WORDED_RELAY = {
  columns: { code: {}, words: ['the nine standard columns'] },
  segments: { code: [], words: ['none: group calls refused', 'none: group calls are refused'] },
  identitySecrets: {
    code: [],
    words: [
      'none: segment changes not bound to a visitor',
      'none: segment changes are not bound to a visitor',
    ],
  },
  allowedOrigins: { code: [], words: ['none', 'none: same-origin or no `Origin` only'] },
  basePath: { code: undefined, words: ['none: the root'] },
  clientAddressHeader: {
    code: undefined,
    words: ['none: the socket address', 'none: the socket address given by the runtime adapter'],
  },
  trustedProxies: { code: [], words: ['none'] },
  fetch: { code: undefined, words: ['global `fetch`', 'the global `fetch`'] },
  store: { code: undefined, words: ['none: each instance keeps its own'] },
  redisUrl: { code: undefined, words: ['none: each instance keeps its own'] },
  metrics: { code: undefined, words: ['none'] },
  metricsToken: { code: undefined, words: ['none: anyone who can reach it'] },
  log: {
    code: undefined,
    words: [
      'warnings and errors to the console',
      'warnings and errors as JSON lines on the console',
    ],
  },
}
/** How a docs table cell says "no default". */
const NO_DEFAULT = ['—', 'required']
/**
 * The settings "Tuning settings" shows: a chosen subset of the plugin's, so that a row dropped
 * from it cannot be told from code.
 */
const TUNING_KEYS = [
  'batchSize',
  'flushInterval',
  'maxQueueRows',
  'maxQueueBytes',
  'maxMemoryRows',
  'maxMemoryBytes',
  'maxAttempts',
  'persist',
  'debug',
]

/**
 * The value a documented default starts with — `value` in backticks, or a bare number whose `,`
 * and `_` separators are dropped — when nothing but `, …` or ` (…)` follows it.
 */
function literalOf(said) {
  const match = /^(?:`([^`]*)`|(\d[\d,_]*))(?:$|,\s|\s\()/.exec(said ?? '')
  if (!match) return undefined
  const literal = match[1] ?? match[2]
  return /^\d[\d,_]*$/.test(literal) ? literal.replace(/[,_]/g, '') : literal
}

/**
 * What is wrong with `said` (a docs table cell, or what follows a TSDoc `Default`; `undefined` when
 * the TSDoc names none) as the default of `key`, which is `code` in code; `undefined` if nothing.
 */
function misstatement(key, said, code, worded) {
  const says = said === undefined ? 'states none' : `says ${JSON.stringify(said)}`
  const wording = worded[key]
  if (wording) {
    if (!isDeepStrictEqual(code, wording.code)) {
      return `${key}: the code's default ${JSON.stringify(code)} is not what "${wording.words[0]}" describes`
    }
    if (wording.words.includes(said)) return undefined
    return `${key}: ${says}; expected one of ${JSON.stringify(wording.words)}`
  }
  if (code === undefined) {
    if (said === undefined || NO_DEFAULT.includes(said)) return undefined
    return `${key}: ${says}; it has no default`
  }
  if (literalOf(said) === String(code)) return undefined
  return `${key}: ${says}; the default is ${JSON.stringify(code)}`
}

/** Lines of the section under `headings` (each found after the one before). */
function section(markdown, ...headings) {
  const lines = markdown.split('\n')
  let start = 0
  for (const heading of headings) {
    start = lines.indexOf(heading, start)
    assert.ok(start >= 0, `no heading "${heading}"`)
  }
  const level = headings.at(-1).indexOf(' ')
  const end = lines.findIndex(
    (line, i) => i > start && /^#+ /.test(line) && line.indexOf(' ') <= level,
  )
  return lines.slice(start + 1, end < 0 ? undefined : end)
}

/**
 * The first table of a docs section: for every key named (in backticks, asides in parentheses
 * left out) in its `keyColumn`, the cell of its `default` column. A cell listing one value per
 * key (`` `8787`, `127.0.0.1` ``) is dealt out in order.
 */
function readmeDefaults(lines, keyColumn) {
  const first = lines.findIndex((line) => line.startsWith('|'))
  assert.ok(first >= 0, 'the section has no table')
  const rows = []
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) break
    rows.push(
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
  }
  const [header, , ...body] = rows
  const keyAt = header.indexOf(keyColumn)
  const defaultAt = header.indexOf('default')
  assert.ok(keyAt >= 0 && defaultAt >= 0, `the table has no "${keyColumn}" or "default" column`)
  const defaults = new Map()
  for (const cells of body) {
    const keys = [...cells[keyAt].replace(/\([^)]*\)/g, '').matchAll(/`([^`]+)`/g)].map((m) => m[1])
    const cell = cells[defaultAt]
    const each = /^`[^`]*`(?:,\s*`[^`]*`)+$/.test(cell) ? cell.split(/,\s*/) : undefined
    assert.ok(!each || each.length === keys.length, `"${cell}" has not one value per key`)
    keys.forEach((key, i) => {
      assert.ok(!defaults.has(key), `${key} has two rows`)
      defaults.set(key, each ? each[i] : cell)
    })
  }
  return defaults
}

/**
 * The fields of `interface name` in a TypeScript source: whether each is optional, its TSDoc as
 * one line (empty if it has none), and what follows `Default` or `Default:` in it, up to the end
 * of that sentence.
 */
function tsdocFields(source, name) {
  const start = new RegExp(`interface ${name}\\b[^{]*\\{`).exec(source)
  assert.ok(start, `no interface ${name}`)
  const body = source.slice(start.index, source.indexOf('\n}', start.index))
  const fields = new Map()
  // A field is a line of its own; the TSDoc right above it, if any, is its documentation.
  for (const [, doc = '', key, optional] of body.matchAll(
    /(?:\/\*\*((?:(?!\*\/)[\s\S])*)\*\/[ \t]*\n)?^[ \t]*(?:readonly\s+)?(\w+)(\?)?:/gm,
  )) {
    const text = doc
      .replace(/^\s*\*/gm, ' ')
      .replace(/\s+/g, ' ')
      .trim()
    const said = /\bDefault:? ([\s\S]*?)(?:\.(?=\s|$)|$)/.exec(text)?.[1]
    fields.set(key, { optional: optional === '?', text, said })
  }
  return fields
}

/**
 * Problems of the defaults a document states: `documented` maps each key it covers to its entry,
 * `said` reads the stated default out of an entry. Keys it does not cover are left to
 * {@link unmatched}.
 */
function misstatements(defaults, worded, documented, said = (entry) => entry) {
  return [...defaults]
    .filter(([key]) => documented.has(key))
    .map(([key, code]) => misstatement(key, said(documented.get(key)), code, worded))
}

/** Keys of `known` that `documented` lacks, and the other way round, named with `where`. */
function unmatched(documented, where, known) {
  return [
    ...[...known.keys()]
      .filter((key) => !documented.has(key))
      .map((key) => `${key}: missing from ${where}`),
    ...[...documented.keys()]
      .filter((key) => !known.has(key))
      .map((key) => `${key}: in ${where}, but no such option`),
  ]
}

/** Fields without TSDoc, and fields that must be given though the code has a default for them. */
function fieldProblems(fields, defaults) {
  return [...fields].flatMap(([key, field]) => [
    field.text === '' ? `${key}: has no TSDoc` : undefined,
    !field.optional && defaults.get(key) !== undefined
      ? `${key}: has a default, but its field is not optional`
      : undefined,
  ])
}

const problemsOnly = (list) => list.filter((problem) => problem !== undefined)

describe('documented defaults: the plugin', () => {
  const readme = read('README.md')

  test('README "Settings" lists every setting with its default', () => {
    const documented = readmeDefaults(section(readme, '## Settings'), 'key')
    const problems = [
      ...unmatched(documented, 'README "Settings"', PLUGIN_DEFAULTS),
      ...misstatements(PLUGIN_DEFAULTS, WORDED_PLUGIN, documented),
    ]
    assert.deepEqual(problemsOnly(problems), [])
  })

  test('docs/delivery.md "Tuning settings" lists every tuning setting with its default', () => {
    const documented = readmeDefaults(
      section(read('docs/delivery.md'), '## Tuning settings'),
      'key',
    )
    const tuning = new Map(TUNING_KEYS.map((key) => [key, PLUGIN_DEFAULTS.get(key)]))
    const problems = [
      ...unmatched(documented, 'docs/delivery.md "Tuning settings"', tuning),
      ...misstatements(tuning, WORDED_PLUGIN, documented),
    ]
    assert.deepEqual(problemsOnly(problems), [])
  })

  test('the TSDoc of SelligentSettings states each default, and which settings are required', () => {
    // The settings of both modes, and each mode's own (a mode marks the other's keys `never`,
    // undocumented).
    const source = read('src/plugin/SelligentSettings.ts')
    const fields = new Map([
      ...tsdocFields(source, 'SelligentCommonSettings'),
      ...[
        ...tsdocFields(source, 'SelligentProxyMode'),
        ...tsdocFields(source, 'SelligentDirectMode'),
      ].filter(([, field]) => field.text),
    ])
    const required = Object.entries(SETTING_RULES)
      .filter(([, rule]) => rule.fallback_ === undefined)
      .map(([key]) => key)
    const problems = [
      ...unmatched(fields, 'SelligentSettings', PLUGIN_DEFAULTS),
      ...misstatements(PLUGIN_DEFAULTS, WORDED_PLUGIN, fields, (field) => field.said),
      ...fieldProblems(fields, PLUGIN_DEFAULTS),
      ...required
        .filter(
          (key) =>
            fields.get(key)?.optional !== false || !/\bRequired\b/.test(fields.get(key).text),
        )
        .map((key) => `${key}: required, but its field is optional or its TSDoc does not say so`),
    ]
    assert.deepEqual(problemsOnly(problems), [])
  })

  test('"the nine standard columns" are nine', () => {
    assert.equal(STANDARD_COLUMNS.length, 9)
  })
})

describe('documented defaults: the relay', () => {
  const relayFields = new Map([
    ...tsdocFields(read('src/relay/config/RelayOptions.ts'), 'RelayOptions'),
    ...tsdocFields(read('src/relay/config/RelayServerOptions.ts'), 'RelayServerOptions'),
  ])
  /** Every option's default; `undefined` for those without one. */
  const relayDefaults = new Map([...relayFields.keys()].map((key) => [key, RELAY_DEFAULTS[key]]))

  test('every default in RELAY_DEFAULTS belongs to an option', () => {
    const strays = Object.keys(RELAY_DEFAULTS).filter((key) => !relayFields.has(key))
    assert.deepEqual(strays, [])
  })

  test('docs/relay.md and docs/relay-scale-out.md "Configuration" list every option with its default', () => {
    const column = '`createRelay` option'
    const readme = readmeDefaults(section(read('docs/relay.md'), '## Configuration'), column)
    const scaleOut = readmeDefaults(
      section(read('docs/relay-scale-out.md'), '## Configuration'),
      column,
    )
    const documented = new Map([...readme, ...scaleOut])
    const problems = [
      ...[...scaleOut.keys()]
        .filter((key) => readme.has(key))
        .map((key) => `${key}: in both docs/relay.md and docs/relay-scale-out.md`),
      ...unmatched(documented, 'docs/relay.md "Configuration"', relayDefaults),
      ...misstatements(relayDefaults, WORDED_RELAY, documented),
      ...[...relayFields]
        .filter(([key, field]) => !field.optional && documented.get(key) !== 'required')
        .map(([key]) => `${key}: required, but docs/relay.md "Configuration" does not say so`),
    ]
    assert.deepEqual(problemsOnly(problems), [])
  })

  test('the TSDoc of RelayOptions and RelayServerOptions states each default', () => {
    const problems = [
      ...misstatements(relayDefaults, WORDED_RELAY, relayFields, (field) => field.said),
      ...fieldProblems(relayFields, relayDefaults),
    ]
    assert.deepEqual(problemsOnly(problems), [])
  })
})
