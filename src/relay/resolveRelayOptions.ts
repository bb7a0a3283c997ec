import { isApiName } from '../columns.js'
import { eventColumns } from './eventColumns.js'
import { RelayConfigError } from './RelayConfigError.js'
import {
  optionLabel,
  type EnvOption,
  type RelayLogEntry,
  type RelayOptions,
  type ResolvedRelayOptions,
} from './RelayOptions.js'

/** Default of {@link RelayOptions.eventsList}: the data list name Segment's destination documents. */
export const DEFAULT_EVENTS_LIST = 'segment_events'
/** Default of {@link RelayOptions.budgetPerMinute}: SMC's limit per API key. */
export const DEFAULT_BUDGET_PER_MINUTE = 2500
/** Default of {@link RelayOptions.coalesceWindowMs}: at most 1,200 calls a minute for one busy target. */
export const DEFAULT_COALESCE_WINDOW_MS = 50
/** Default of {@link RelayOptions.maxRows}: SMC advises a few hundred rows per load call. */
export const DEFAULT_MAX_ROWS = 500
/** Default of {@link RelayOptions.maxBytes}. */
export const DEFAULT_MAX_BYTES = 1024 * 1024
/** Default of {@link RelayOptions.rateLimitPerClient}: ten requests a second, far above a browser's batching. */
export const DEFAULT_RATE_LIMIT_PER_CLIENT = 600
/** Default of {@link RelayOptions.timeoutMs}: SMC itself times connections out after 15 s. */
export const DEFAULT_TIMEOUT_MS = 15_000

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

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

  const userLists = options.userLists ?? []
  for (const list of userLists) {
    if (!isApiName(list)) {
      problems.push(
        `${optionLabel('userLists')} must hold SMC api names; got ${JSON.stringify(list)}`,
      )
    }
  }
  const allowedOrigins = (options.allowedOrigins ?? []).map((origin) => {
    const normalized = normalizeOrigin(origin)
    if (!normalized) {
      problems.push(
        `${optionLabel('allowedOrigins')} must hold origins like https://shop.example; got ${JSON.stringify(origin)}`,
      )
    }
    return normalized
  })
  const columns = eventColumns(options.columns ?? {}, optionLabel('columns'))
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
    eventsList: apiName('eventsList', options.eventsList, DEFAULT_EVENTS_LIST),
    columns: columns.columns,
    userLists: new Set(userLists),
    allowedOrigins: new Set(allowedOrigins.filter((o): o is string => o !== undefined)),
    budgetPerMinute: count(
      'budgetPerMinute',
      options.budgetPerMinute,
      DEFAULT_BUDGET_PER_MINUTE,
      1,
    ),
    coalesceWindowMs: count(
      'coalesceWindowMs',
      options.coalesceWindowMs,
      DEFAULT_COALESCE_WINDOW_MS,
      0,
    ),
    maxRows: count('maxRows', options.maxRows, DEFAULT_MAX_ROWS, 1),
    maxBytes: count('maxBytes', options.maxBytes, DEFAULT_MAX_BYTES, 2),
    rateLimitPerClient: count(
      'rateLimitPerClient',
      options.rateLimitPerClient,
      DEFAULT_RATE_LIMIT_PER_CLIENT,
      0,
    ),
    clientAddressHeader: header?.toLowerCase(),
    timeoutMs: count('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 1),
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
  if (
    url.protocol !== 'https:' &&
    !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))
  ) {
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
