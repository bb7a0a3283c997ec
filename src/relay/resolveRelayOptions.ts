import { httpsOrLoopbackUrl } from '../smc/httpsOrLoopbackUrl.js'
import { isApiName } from '../smc/isApiName.js'
import { eventColumns } from './eventColumns.js'
import { RelayConfigError } from './RelayConfigError.js'
import { RELAY_DEFAULTS } from './relayDefaults.js'
import {
  optionLabel,
  type EnvOption,
  type RelayLogEntry,
  type RelayOptions,
  type ResolvedRelayOptions,
} from './RelayOptions.js'

/** Logs warnings and errors as JSON lines; `info` is left to callers who ask for it. */
const consoleLog = (entry: RelayLogEntry): void => {
  if (entry.level !== 'info') console.error(JSON.stringify(entry))
}

/** Validates options once and applies the defaults; throws one error naming every problem. */
export function resolveRelayOptions(options: RelayOptions): ResolvedRelayOptions {
  const problems: string[] = []

  const text = (name: EnvOption, value: unknown, secret = false): string => {
    if (typeof value === 'string' && value.trim() !== '') {
      if (/[\r\n]/.test(value)) problems.push(`${optionLabel(name)} must not contain line breaks`)
      return value.trim()
    }
    const shown = secret || value === undefined ? '' : `; got ${JSON.stringify(value)}`
    problems.push(`${optionLabel(name)} is required${shown}`)
    return ''
  }

  const apiName = (name: EnvOption, value: unknown, fallback: string): string => {
    if (value === undefined) return fallback
    if (isApiName(value)) return value
    problems.push(
      `${optionLabel(name)} must be an SMC api name (letters, digits, _ and -); got ${JSON.stringify(value)}`,
    )
    return fallback
  }

  const count = (name: EnvOption, value: unknown, fallback: number, min: number): number => {
    if (value === undefined) return fallback
    if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value
    problems.push(
      `${optionLabel(name)} must be a whole number of at least ${min}; got ${JSON.stringify(value)}`,
    )
    return fallback
  }

  const smcApiUrl = adminUrl(text('smcAdminUrl', options.smcAdminUrl), problems)
  const organization = text('organization', options.organization)
  const apiKey = text('apiKey', options.apiKey, true)
  const apiSecret = text('apiSecret', options.apiSecret, true)
  // The header joins key and secret with a colon, so a colon in the key would move the boundary.
  if (apiKey.includes(':')) problems.push(`${optionLabel('apiKey')} must not contain ":"`)

  const userLists = options.userLists ?? RELAY_DEFAULTS.userLists
  for (const list of userLists) {
    if (!isApiName(list)) {
      problems.push(
        `${optionLabel('userLists')} must hold SMC api names; got ${JSON.stringify(list)}`,
      )
    }
  }
  const allowedOrigins = (options.allowedOrigins ?? RELAY_DEFAULTS.allowedOrigins).map((origin) => {
    const normalized = normalizeOrigin(origin)
    if (!normalized) {
      problems.push(
        `${optionLabel('allowedOrigins')} must hold origins like https://shop.example; got ${JSON.stringify(origin)}`,
      )
    }
    return normalized
  })
  const columns = eventColumns(options.columns ?? RELAY_DEFAULTS.columns, optionLabel('columns'))
  problems.push(...columns.problems)

  const header = options.clientAddressHeader
  if (header !== undefined && !/^[A-Za-z0-9-]+$/.test(header)) {
    problems.push(
      `${optionLabel('clientAddressHeader')} must be a header name; got ${JSON.stringify(header)}`,
    )
  }

  const resolved: ResolvedRelayOptions = {
    smcApiUrl,
    organization,
    apiKeyHeader: `${apiKey}:${apiSecret}`,
    secrets: [`${apiKey}:${apiSecret}`, apiSecret, apiKey].filter((s) => s.length > 0),
    eventsList: apiName('eventsList', options.eventsList, RELAY_DEFAULTS.eventsList),
    columns: columns.columns,
    userLists: new Set(userLists),
    allowedOrigins: new Set(allowedOrigins.filter((o): o is string => o !== undefined)),
    budgetPerMinute: count(
      'budgetPerMinute',
      options.budgetPerMinute,
      RELAY_DEFAULTS.budgetPerMinute,
      1,
    ),
    coalesceWindowMs: count(
      'coalesceWindowMs',
      options.coalesceWindowMs,
      RELAY_DEFAULTS.coalesceWindowMs,
      0,
    ),
    maxRows: count('maxRows', options.maxRows, RELAY_DEFAULTS.maxRows, 1),
    maxBytes: count('maxBytes', options.maxBytes, RELAY_DEFAULTS.maxBytes, 2),
    rateLimitPerClient: count(
      'rateLimitPerClient',
      options.rateLimitPerClient,
      RELAY_DEFAULTS.rateLimitPerClient,
      0,
    ),
    clientAddressHeader: header?.toLowerCase(),
    timeoutMs: count('timeoutMs', options.timeoutMs, RELAY_DEFAULTS.timeoutMs, 1),
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    log: options.log ?? consoleLog,
  }
  if (problems.length) throw new RelayConfigError(problems)
  return resolved
}

/** `https://acme.slgnt.eu` → `https://acme.slgnt.eu/Portal/Api`, or a problem. */
function adminUrl(value: string, problems: string[]): string {
  if (!value) return ''
  const label = optionLabel('smcAdminUrl')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push(`${label} must be a URL like https://acme.slgnt.eu; got ${JSON.stringify(value)}`)
    return ''
  }
  if (!httpsOrLoopbackUrl(value)) {
    problems.push(`${label} must use https (http only for localhost); got ${JSON.stringify(value)}`)
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    problems.push(
      `${label} must be the admin URL without a path, like https://acme.slgnt.eu; got ${JSON.stringify(value)}`,
    )
  }
  return `${url.origin}/Portal/Api`
}

/** The canonical form of an origin (`scheme://host[:port]`), or `undefined` if it is not one. */
function normalizeOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin)
    const bare = url.pathname === '/' && !url.search && !url.hash && !url.username
    return bare && (url.protocol === 'https:' || url.protocol === 'http:') ? url.origin : undefined
  } catch {
    return undefined
  }
}
