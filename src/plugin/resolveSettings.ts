import { STANDARD_COLUMNS, isApiName, type StandardColumn } from './columns.js'

type Check = (value: unknown) => boolean
const isText: Check = (v) => typeof v === 'string' && v.trim() !== ''
const isFlag: Check = (v) => typeof v === 'boolean'
const isCount: Check = (v) => Number.isInteger(v) && (v as number) > 0
const FLAG = 'true or false'
const COUNT = 'a positive integer'

/**
 * The optional settings: key, check, rule named in the message when the check fails, default.
 * One table, so a setting's rule, default and known-ness cannot drift apart.
 */
const OPTIONAL: readonly (readonly [string, Check, string, unknown])[] = [
  ['eventsDataListApiName', isApiName, 'an SMC api name (letters, digits, _, -)', 'segment_events'],
  ['sendAliasEvents', isFlag, FLAG, false],
  ['sendGroupEvents', isFlag, FLAG, false],
  ['sendPageEvents', isFlag, FLAG, false],
  ['sendScreenEvents', isFlag, FLAG, false],
  ['batchSize', isCount, COUNT, 100],
  ['flushInterval', (v) => Number.isFinite(v) && (v as number) >= 0, 'a number ≥ 0 (ms)', 1000],
  ['maxQueueRows', isCount, COUNT, 5000],
  ['maxQueueBytes', isCount, COUNT, 1_000_000],
  ['maxAttempts', isCount, COUNT, 10],
  ['persist', isFlag, FLAG, true],
  ['debug', isFlag, FLAG, false],
]
const DIRECT = ['smcAdminUrl', 'apiKey', 'apiSecret']
const KNOWN = new Set([
  'organization',
  'allowedEvents',
  'proxyUrl',
  'columns',
  ...DIRECT,
  ...OPTIONAL.map(([key]) => key),
])
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]']

/** Settings after validation, with every default applied. */
export interface ResolvedSettings {
  readonly organization: string
  readonly allowedEvents: ReadonlySet<string>
  readonly eventsDataListApiName: string
  readonly sendAliasEvents: boolean
  readonly sendGroupEvents: boolean
  readonly sendPageEvents: boolean
  readonly sendScreenEvents: boolean
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

/** How a bad value is quoted in a message; credentials are never echoed. */
function show(value: unknown, key: string): string {
  if (key === 'apiKey' || key === 'apiSecret') return 'a redacted value'
  const text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value))
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** An absolute http(s) URL; plain http only for loopback hosts. */
function httpsUrl(value: unknown): URL | undefined {
  try {
    const url = new URL(value as string)
    if (
      url.protocol === 'https:' ||
      (url.protocol === 'http:' && LOOPBACK.includes(url.hostname))
    ) {
      return url
    }
  } catch {
    // not a URL: the caller reports it
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
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>
  const resolved: Record<string, unknown> = {}
  const bad = (key: string, rule: string, value = raw[key]): void => {
    problems.push(`"${key}" must be ${rule}; got ${show(value, key)}`)
  }
  /** The value of `key` when it passes `check`; a problem (or a missing one) otherwise. */
  const take = (key: string, check: Check, rule: string, required = true): unknown => {
    const value = raw[key]
    if (value === undefined) {
      if (required) problems.push(`"${key}" is required`)
    } else if (check(value)) return value
    else bad(key, rule)
    return undefined
  }

  if (raw !== input || Array.isArray(input))
    problems.push(`settings must be an object; got ${show(input, '')}`)
  for (const key of Object.keys(raw)) {
    if (!KNOWN.has(key)) warnings.push(`unknown setting "${key}" is ignored (a typo?)`)
  }
  resolved.organization = take('organization', isText, 'a non-empty string')
  const events = take(
    'allowedEvents',
    (v) => Array.isArray(v) && v.every((name) => typeof name === 'string'),
    'an array of event names',
  )
  if (events) resolved.allowedEvents = new Set(events as string[])
  for (const [key, check, rule, fallback] of OPTIONAL) {
    resolved[key] = take(key, check, rule, false) ?? fallback
  }

  resolved.headers = { 'Content-Type': 'text/plain' }
  if (raw.proxyUrl !== undefined) {
    const proxy = raw.proxyUrl
    if (typeof proxy === 'string' && (proxy.startsWith('/') || httpsUrl(proxy))) {
      resolved.baseUrl = proxy.replace(/\/+$/, '')
    } else bad('proxyUrl', 'a path like "/smc" or an https URL')
    for (const key of DIRECT) {
      if (raw[key] !== undefined) {
        warnings.push(
          `"${key}" is ignored with "proxyUrl"${key === 'apiSecret' ? ' and never sent: remove it from the page, every visitor can read it' : ''}`,
        )
      }
    }
  } else {
    const [adminUrl, key, secret] = DIRECT.map((name) => take(name, isText, 'a non-empty string'))
    const url = httpsUrl(adminUrl)
    if (adminUrl && !url) bad('smcAdminUrl', 'an https URL (http only for localhost)')
    if (url && key && secret) {
      resolved.baseUrl = `${url.origin}/Portal/Api`
      resolved.headers = { 'X-ApiKey': `${key}:${secret}`, 'Content-Type': 'application/json' }
      warnings.push(
        'direct mode: "apiSecret" is visible to every visitor of this page; send through a relay ("proxyUrl") instead',
      )
    }
  }

  const overrides = (take(
    'columns',
    (v) => typeof v === 'object' && v !== null,
    'an object',
    false,
  ) ?? {}) as Record<string, unknown>
  for (const key of Object.keys(overrides)) {
    if (!(STANDARD_COLUMNS as readonly string[]).includes(key)) {
      problems.push(`"columns.${key}" is not a standard column (${STANDARD_COLUMNS.join(', ')})`)
    }
  }
  const columns: [StandardColumn, string][] = []
  for (const column of STANDARD_COLUMNS) {
    const name = overrides[column] === undefined ? column : overrides[column]
    if (isApiName(name)) columns.push([column, name])
    else if (name !== null || column === 'EVENT_ID') {
      bad(
        `columns.${column}`,
        `an SMC field name${column === 'EVENT_ID' ? ' (it cannot be dropped)' : ' or null'}`,
        name,
      )
    }
  }
  const names = columns.map(([, name]) => name)
  const twice = names.filter((name, i) => names.indexOf(name) !== i)
  if (twice.length) problems.push(`"columns" names a field twice: ${twice.join(', ')}`)
  resolved.columns = columns

  return {
    settings: problems.length ? undefined : (resolved as unknown as ResolvedSettings),
    problems,
    warnings,
  }
}
