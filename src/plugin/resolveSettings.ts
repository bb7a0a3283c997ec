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

/** Settings after validation, with every default applied. */
export interface ResolvedSettings {
  readonly organization: string
  readonly allowedEvents: ReadonlySet<string>
  readonly eventsDataListApiName: string
  readonly consentCategories: readonly string[]
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
  /** The identity token, or the function giving the current one; none without the setting. */
  readonly identityToken: string | (() => unknown) | undefined
}

/** The settings {@link SETTING_RULES} reads, as given: `allowedEvents` and `columns` not resolved yet. */
type RuledSettings = Omit<
  ResolvedSettings,
  'allowedEvents' | 'columns' | 'baseUrl' | 'headers' | 'identityToken'
> & {
  readonly allowedEvents: readonly string[]
  readonly columns: Readonly<Record<string, unknown>>
}

/** How one setting is read. */
export interface SettingRule<T> {
  /** Whether a given value is valid. */
  readonly check_: Check
  /** The rule a problem names when the check fails. */
  readonly rule_: string
  /** The value when none is given; none: the setting is required. */
  readonly fallback_?: T
}

/** A required non-empty string. */
const TEXT_RULE: SettingRule<string> = { check_: isText, rule_: TEXT }

/**
 * The settings read as given: check, rule named in the message when the check fails, and default
 * (none: required). One table, so a setting's rule, default and known-ness cannot drift apart; the
 * compiler holds it to {@link ResolvedSettings}, and the docs' tables, TSDoc and test fixtures are
 * checked against it (test/node/documented-defaults). `proxyUrl` and the direct-mode keys depend
 * on one another and are read apart.
 */
export const SETTING_RULES: { readonly [K in keyof RuledSettings]: SettingRule<RuledSettings[K]> } =
  {
    organization: TEXT_RULE,
    allowedEvents: {
      check_: (v) => Array.isArray(v) && v.every((name) => typeof name === 'string'),
      rule_: 'an array of event names',
    },
    eventsDataListApiName: {
      check_: isApiName,
      rule_: 'an api name ([A-Za-z0-9_-])',
      fallback_: 'segment_events',
    },
    consentCategories: {
      check_: (v) => Array.isArray(v) && v.every(isText),
      rule_: 'an array of category names',
      fallback_: [],
    },
    sendAliasEvents: { check_: isFlag, rule_: FLAG, fallback_: false },
    sendGroupEvents: { check_: isFlag, rule_: FLAG, fallback_: false },
    sendPageEvents: { check_: isFlag, rule_: FLAG, fallback_: false },
    sendScreenEvents: { check_: isFlag, rule_: FLAG, fallback_: false },
    batchSize: { check_: isCount, rule_: COUNT, fallback_: 100 },
    flushInterval: {
      check_: (v) => Number.isFinite(v) && (v as number) >= 0,
      rule_: 'a number ≥ 0 (ms)',
      fallback_: 1000,
    },
    maxQueueRows: { check_: isCount, rule_: COUNT, fallback_: 5000 },
    maxQueueBytes: { check_: isCount, rule_: COUNT, fallback_: 1_000_000 },
    maxMemoryRows: { check_: isCount, rule_: COUNT, fallback_: 15_000 },
    maxMemoryBytes: { check_: isCount, rule_: COUNT, fallback_: 15_000_000 },
    maxAttempts: { check_: isCount, rule_: COUNT, fallback_: 10 },
    persist: { check_: isFlag, rule_: FLAG, fallback_: true },
    debug: { check_: isFlag, rule_: FLAG, fallback_: false },
    columns: { check_: isObject, rule_: 'an object', fallback_: {} },
  }
/** The direct-mode settings; never read from markup, never echoed. */
export const DIRECT_KEYS = ['smcAdminUrl', 'apiKey', 'apiSecret']
/** Every setting's key. */
export const SETTING_KEYS = [
  'proxyUrl',
  ...DIRECT_KEYS,
  'identityToken',
  ...Object.keys(SETTING_RULES),
]

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
  const read = <T>(
    key: string,
    { check_: check, rule_: rule, fallback_: fallback }: SettingRule<T>,
  ): T | undefined => {
    const value = raw[key]
    if (value === undefined) {
      if (fallback === undefined) problems.push(`"${key}" is required`)
      return fallback
    }
    if (check(value)) return value as T
    bad(key, rule)
  }

  if (raw !== input || Array.isArray(input)) bad('settings', 'an object', input)
  for (const key in raw) {
    if (!SETTING_KEYS.includes(key)) warnings.push(`"${key}" is not a setting (a typo?)`)
  }
  const given: Partial<Record<keyof RuledSettings, unknown>> = {}
  for (const key of Object.keys(SETTING_RULES) as (keyof RuledSettings)[]) {
    given[key] = read(key, SETTING_RULES[key] as SettingRule<unknown>)
  }
  // Complete when no problem was found, which alone lets the settings out.
  const ruled = given as RuledSettings
  if (raw.apiSecret !== undefined) {
    warnings.push(
      '"apiSecret" is public: every visitor can read it; keep it in a relay ("proxyUrl")',
    )
  }

  let baseUrl: string | undefined
  let headers: Record<string, string> = { 'Content-Type': 'text/plain' }
  const proxy = raw.proxyUrl
  if (proxy !== undefined) {
    if (typeof proxy === 'string' && (proxy[0] === '/' || httpsOrLoopbackUrl(proxy))) {
      baseUrl = proxy.replace(/\/+$/, '')
    } else bad('proxyUrl', 'a path like "/smc" or an https URL')
    for (const key of DIRECT_KEYS) {
      if (raw[key] !== undefined) warnings.push(`"${key}" is ignored with "proxyUrl"`)
    }
  } else if (DIRECT_KEYS.every((key) => raw[key] === undefined)) {
    // Neither mode: the relay is the one to recommend.
    problems.push('"proxyUrl" is required (or, for direct mode, smcAdminUrl, apiKey and apiSecret)')
  } else {
    const [adminUrl, key, secret] = DIRECT_KEYS.map((name) => read(name, TEXT_RULE))
    const url = httpsOrLoopbackUrl(adminUrl)
    if (adminUrl && !url) bad('smcAdminUrl', 'an https URL (http only for localhost)')
    if (url && key && secret) {
      baseUrl = `${url.origin}/Portal/Api`
      headers = { 'X-ApiKey': `${key}:${secret}`, 'Content-Type': 'application/json' }
    }
  }

  // Optional with no default, and a function where the table's settings are values: read apart.
  const identityToken = raw.identityToken as ResolvedSettings['identityToken']
  if (identityToken !== undefined && !isText(identityToken) && typeof identityToken !== 'function')
    bad('identityToken', 'a string or a function')

  const columns = resolveColumns(ruled.columns ?? {}, (key, rule, value) =>
    bad(`columns.${key}`, rule, value),
  )

  return {
    settings:
      problems.length || baseUrl === undefined
        ? undefined
        : {
            ...ruled,
            // Looked up on every track call: a Set, however long the tracking plan.
            allowedEvents: new Set(ruled.allowedEvents),
            columns,
            baseUrl,
            headers,
            identityToken,
          },
    problems,
    warnings,
  }
}
