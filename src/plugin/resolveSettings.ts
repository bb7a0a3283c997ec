import { resolveColumns } from '../smc/columns.js'
import { httpsOrLoopbackUrl } from '../smc/httpsOrLoopbackUrl.js'
import { isApiName } from '../smc/isApiName.js'

type Check = (value: unknown) => boolean
const isText: Check = (v) => typeof v === 'string' && v.trim() !== ''
const isFlag: Check = (v) => typeof v === 'boolean'
const isCount: Check = (v) => Number.isInteger(v) && (v as number) > 0
const isObject: Check = (v) => typeof v === 'object' && v !== null
const FLAG = 'true or false'
const COUNT = 'a positive integer'
const TEXT = 'a non-empty string'

/**
 * The settings read as given: key, check, rule named in the message when the check fails, and
 * default (none: required). One table, so a setting's rule, default and known-ness cannot drift
 * apart; the docs' tables, TSDoc and test fixtures are checked against it (test/node/documented-defaults).
 * `proxyUrl` and the direct-mode keys depend on one another and are read apart.
 */
export const SETTING_RULES: readonly (readonly [string, Check, string, unknown?])[] = [
  ['organization', isText, TEXT],
  [
    'allowedEvents',
    (v) => Array.isArray(v) && v.every((name) => typeof name === 'string'),
    'an array of event names',
  ],
  ['eventsDataListApiName', isApiName, 'an api name ([A-Za-z0-9_-])', 'segment_events'],
  ['sendAliasEvents', isFlag, FLAG, false],
  ['sendGroupEvents', isFlag, FLAG, false],
  ['sendPageEvents', isFlag, FLAG, false],
  ['sendScreenEvents', isFlag, FLAG, false],
  ['batchSize', isCount, COUNT, 100],
  ['flushInterval', (v) => Number.isFinite(v) && (v as number) >= 0, 'a number ≥ 0 (ms)', 1000],
  ['maxQueueRows', isCount, COUNT, 5000],
  ['maxQueueBytes', isCount, COUNT, 1_000_000],
  ['maxMemoryRows', isCount, COUNT, 15_000],
  ['maxMemoryBytes', isCount, COUNT, 15_000_000],
  ['maxAttempts', isCount, COUNT, 10],
  ['persist', isFlag, FLAG, true],
  ['debug', isFlag, FLAG, false],
  ['columns', isObject, 'an object', {}],
]
/** The direct-mode settings; never read from markup, never echoed. */
export const DIRECT_KEYS = ['smcAdminUrl', 'apiKey', 'apiSecret']
/** Every setting's key. */
export const SETTING_KEYS = ['proxyUrl', ...DIRECT_KEYS, ...SETTING_RULES.map(([key]) => key)]

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
  /** The event columns sent, in order: [index in STANDARD_COLUMNS, name in SMC]. */
  readonly columns: readonly (readonly [number, string])[]
  readonly batchSize: number
  readonly flushInterval: number
  readonly maxQueueRows: number
  readonly maxQueueBytes: number
  readonly maxMemoryRows: number
  readonly maxMemoryBytes: number
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

/**
 * Validates raw settings once and resolves them into a typed object with every default applied.
 * Never throws: every problem is collected so one message can name them all.
 */
export function resolveSettings(input: unknown): Resolution {
  const problems: string[] = []
  const warnings: string[] = []
  const raw = (isObject(input) ? input : {}) as Record<string, unknown>
  const resolved: Record<string, unknown> = { headers: { 'Content-Type': 'text/plain' } }
  const bad = (key: string, rule: string, value = raw[key]): void => {
    let shown = 'a redacted value' // credentials are never echoed
    if (!/^api/.test(key)) {
      try {
        shown = JSON.stringify(value) ?? String(value)
      } catch {
        shown = String(value) // BigInt, cycles
      }
    }
    problems.push(`"${key}" must be ${rule}; got ${shown}`)
  }
  /** The value of `key` when it passes `check`; a problem (or a missing one) otherwise. */
  const take = (key: string, check: Check, rule: string, fallback?: unknown): unknown => {
    const value = raw[key]
    if (value === undefined) {
      if (fallback === undefined) problems.push(`"${key}" is required`)
      return fallback
    }
    if (check(value)) return value
    bad(key, rule)
  }

  if (raw !== input || Array.isArray(input)) bad('settings', 'an object', input)
  for (const key in raw) {
    if (!SETTING_KEYS.includes(key)) warnings.push(`"${key}" is not a setting (a typo?)`)
  }
  for (const setting of SETTING_RULES) resolved[setting[0]] = take(...setting)
  // Looked up on every track call: a Set, however long the tracking plan.
  resolved.allowedEvents = new Set(resolved.allowedEvents as string[] | undefined)
  if (raw.apiSecret !== undefined) {
    warnings.push(
      '"apiSecret" is public: every visitor can read it; keep it in a relay ("proxyUrl")',
    )
  }

  const proxy = raw.proxyUrl
  if (proxy !== undefined) {
    if (typeof proxy === 'string' && (proxy[0] === '/' || httpsOrLoopbackUrl(proxy))) {
      resolved.baseUrl = proxy.replace(/\/+$/, '')
    } else bad('proxyUrl', 'a path like "/smc" or an https URL')
    for (const key of DIRECT_KEYS) {
      if (raw[key] !== undefined) warnings.push(`"${key}" is ignored with "proxyUrl"`)
    }
  } else if (DIRECT_KEYS.every((key) => raw[key] === undefined)) {
    // Neither mode: the relay is the one to recommend.
    problems.push('"proxyUrl" is required (or, for direct mode, smcAdminUrl, apiKey and apiSecret)')
  } else {
    const [adminUrl, key, secret] = DIRECT_KEYS.map((name) => take(name, isText, TEXT))
    const url = httpsOrLoopbackUrl(adminUrl)
    if (adminUrl && !url) bad('smcAdminUrl', 'an https URL (http only for localhost)')
    if (url && key && secret) {
      resolved.baseUrl = `${url.origin}/Portal/Api`
      resolved.headers = { 'X-ApiKey': `${key}:${secret}`, 'Content-Type': 'application/json' }
    }
  }

  resolved.columns = resolveColumns(
    (resolved.columns as Record<string, unknown> | undefined) ?? {},
    (key, rule, value) => bad(`columns.${key}`, rule, value),
  )

  return {
    settings: problems.length ? undefined : (resolved as unknown as ResolvedSettings),
    problems,
    warnings,
  }
}
