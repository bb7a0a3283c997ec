import { STANDARD_COLUMNS, isApiName, type StandardColumn } from './columns.js'

/** Defaults of the optional settings, named once. */
export const DEFAULTS = {
  eventsDataListApiName: 'segment_events',
  batchSize: 100,
  flushInterval: 1000,
  maxQueueRows: 5000,
  maxQueueBytes: 1_000_000,
  maxAttempts: 10,
  persist: true,
  debug: false,
} as const

/** Settings after validation, with every default applied. */
export interface ResolvedSettings {
  readonly organization: string
  readonly allowedEvents: ReadonlySet<string>
  readonly eventsDataListApiName: string
  /** Which optional call types are sent. */
  readonly send: Readonly<Record<'alias' | 'group' | 'page' | 'screen', boolean>>
  /** `proxyUrl`, or `{smcAdminUrl}/Portal/Api` in direct mode; no trailing slash. */
  readonly baseUrl: string
  /** Request headers: credentials in direct mode, a CORS-simple content type in proxy mode. */
  readonly headers: Readonly<Record<string, string>>
  /** The event columns sent, in order: [standard column, name in SMC]. */
  readonly columns: readonly (readonly [StandardColumn, string])[]
  readonly batchSize: number
  readonly flushInterval: number
  readonly maxQueueRows: number
  readonly maxQueueBytes: number
  readonly maxAttempts: number
  readonly persist: boolean
  readonly debug: boolean
}

/** What {@link resolveSettings} found. `settings` is set only when `problems` is empty. */
export interface Resolution {
  readonly settings: ResolvedSettings | undefined
  readonly problems: readonly string[]
  readonly warnings: readonly string[]
}

type Input = Record<string, unknown>
const KNOWN = new Set<string>([
  'organization',
  'allowedEvents',
  'sendAliasEvents',
  'sendGroupEvents',
  'sendPageEvents',
  'sendScreenEvents',
  'proxyUrl',
  'smcAdminUrl',
  'apiKey',
  'apiSecret',
  'columns',
  ...Object.keys(DEFAULTS),
])
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])
const SECRET_KEYS = new Set(['apiKey', 'apiSecret'])

const isObject = (v: unknown): v is Input =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== ''
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean'
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0
const isDelay = (v: unknown): v is number => Number.isFinite(v) && (v as number) >= 0
const isNames = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((name) => typeof name === 'string')

/** How a bad value is quoted in a message; credentials are never echoed. */
function show(value: unknown, key: string): string {
  if (SECRET_KEYS.has(key)) return `a redacted ${Array.isArray(value) ? 'array' : typeof value}`
  const text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value))
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** Parses an absolute http(s) URL; plain http is allowed for loopback hosts only. */
function parseHttpsUrl(value: string): URL | undefined {
  try {
    const url = new URL(value)
    if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
      return url
    }
  } catch {
    // not a URL: reported by the caller
  }
  return undefined
}

/**
 * Validates raw settings once and resolves them into a typed object with every default applied.
 * Never throws: every problem is collected so one message can name them all.
 */
export function resolveSettings(input: unknown): Resolution {
  const problems: string[] = []
  const warnings: string[] = []
  if (!isObject(input)) {
    return {
      settings: undefined,
      problems: [`settings must be an object; got ${show(input, '')}`],
      warnings,
    }
  }
  for (const key of Object.keys(input)) {
    if (!KNOWN.has(key)) warnings.push(`unknown setting "${key}" is ignored (a typo?)`)
  }

  function take<T>(key: string, ok: (v: unknown) => v is T, rule: string): T | undefined
  function take<T>(key: string, ok: (v: unknown) => v is T, rule: string, fallback: T): T
  function take<T>(key: string, ok: (v: unknown) => v is T, rule: string, fallback?: T) {
    const value = (input as Input)[key]
    if (value === undefined) return fallback
    if (ok(value)) return value
    problems.push(`"${key}" must be ${rule}; got ${show(value, key)}`)
    return fallback
  }
  const required = <T>(key: string, value: T | undefined): T | undefined => {
    if (value === undefined && input[key] === undefined) problems.push(`"${key}" is required`)
    return value
  }
  const flag = (key: string): boolean => take(key, isBoolean, 'true or false', false)

  const organization = required('organization', take('organization', isText, 'a non-empty string'))
  const allowedEvents = required(
    'allowedEvents',
    take('allowedEvents', isNames, 'an array of event names (strings)'),
  )
  const eventsDataListApiName = take(
    'eventsDataListApiName',
    isApiName,
    'an SMC api name (letters, digits, "_", "-")',
    DEFAULTS.eventsDataListApiName,
  )

  let baseUrl: string | undefined
  let headers: Record<string, string> = { 'Content-Type': 'text/plain' }
  const proxyUrl = take('proxyUrl', isText, 'a non-empty URL')
  if (proxyUrl !== undefined) {
    if (proxyUrl.startsWith('/') || parseHttpsUrl(proxyUrl)) baseUrl = proxyUrl.replace(/\/+$/, '')
    else
      problems.push(
        `"proxyUrl" must be a path like "/smc" or an https URL; got ${show(proxyUrl, '')}`,
      )
    for (const key of ['smcAdminUrl', 'apiKey', 'apiSecret']) {
      if (input[key] !== undefined) {
        warnings.push(
          key === 'apiSecret'
            ? '"apiSecret" is ignored with "proxyUrl" and never sent: remove it from the page, every visitor can read it'
            : `"${key}" is ignored with "proxyUrl"`,
        )
      }
    }
  } else if (input.proxyUrl === undefined) {
    const adminUrl = required('smcAdminUrl', take('smcAdminUrl', isText, 'a non-empty URL'))
    const apiKey = required('apiKey', take('apiKey', isText, 'a non-empty string'))
    const apiSecret = required('apiSecret', take('apiSecret', isText, 'a non-empty string'))
    const url = adminUrl === undefined ? undefined : parseHttpsUrl(adminUrl)
    if (adminUrl !== undefined && !url) {
      problems.push(
        `"smcAdminUrl" must be an https URL (http only for localhost); got ${show(adminUrl, '')}`,
      )
    }
    if (url && apiKey !== undefined && apiSecret !== undefined) {
      baseUrl = `${url.origin}/Portal/Api`
      headers = { 'X-ApiKey': `${apiKey}:${apiSecret}`, 'Content-Type': 'application/json' }
      warnings.push(
        'direct mode: "apiSecret" is visible to every visitor of this page; send through a relay ("proxyUrl") instead',
      )
    }
  }

  const columns = resolveColumns(take('columns', isObject, 'an object'), problems)
  const tuning = {
    send: {
      alias: flag('sendAliasEvents'),
      group: flag('sendGroupEvents'),
      page: flag('sendPageEvents'),
      screen: flag('sendScreenEvents'),
    },
    batchSize: take('batchSize', isCount, 'a positive integer', DEFAULTS.batchSize),
    flushInterval: take('flushInterval', isDelay, 'a number ≥ 0 (ms)', DEFAULTS.flushInterval),
    maxQueueRows: take('maxQueueRows', isCount, 'a positive integer', DEFAULTS.maxQueueRows),
    maxQueueBytes: take('maxQueueBytes', isCount, 'a positive integer', DEFAULTS.maxQueueBytes),
    maxAttempts: take('maxAttempts', isCount, 'a positive integer', DEFAULTS.maxAttempts),
    persist: take('persist', isBoolean, 'true or false', DEFAULTS.persist),
    debug: take('debug', isBoolean, 'true or false', DEFAULTS.debug),
  }
  const settings =
    problems.length || !organization || !allowedEvents || !baseUrl
      ? undefined
      : {
          organization,
          allowedEvents: new Set(allowedEvents),
          eventsDataListApiName,
          baseUrl,
          headers,
          columns,
          ...tuning,
        }
  return { settings, problems, warnings }
}

function resolveColumns(
  overrides: Input | undefined,
  problems: string[],
): (readonly [StandardColumn, string])[] {
  const kept: (readonly [StandardColumn, string])[] = []
  for (const key of Object.keys(overrides ?? {})) {
    if (!(STANDARD_COLUMNS as readonly string[]).includes(key)) {
      problems.push(`"columns.${key}" is not a standard column (${STANDARD_COLUMNS.join(', ')})`)
    }
  }
  for (const column of STANDARD_COLUMNS) {
    const name = overrides?.[column]
    if (name === null && column !== 'EVENT_ID') continue
    if (name === undefined) kept.push([column, column])
    else if (isApiName(name)) kept.push([column, name])
    else {
      problems.push(
        `"columns.${column}" must be an SMC field name${column === 'EVENT_ID' ? ' (it cannot be dropped)' : ' or null'}; got ${show(name, '')}`,
      )
    }
  }
  const names = kept.map(([, name]) => name)
  const twice = names.filter((name, i) => names.indexOf(name) !== i)
  if (twice.length) problems.push(`"columns" names a field twice: ${twice.join(', ')}`)
  return kept
}
