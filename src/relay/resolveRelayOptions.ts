import { getPublicSuffix } from 'tldts'
import { httpsOrLoopbackUrl } from '../smc/httpsOrLoopbackUrl.js'
import { isApiName } from '../smc/isApiName.js'
import { createRedactor } from './createRedactor.js'
import { eventColumns } from './eventColumns.js'
import { ipMatcher } from './ipMatcher.js'
import { RelayConfigError } from './RelayConfigError.js'
import { RELAY_DEFAULTS } from './relayDefaults.js'
import {
  optionLabel,
  type AllowedSegment,
  type EnvOption,
  type RelayLogEntry,
  type RelayOptions,
  type ResolvedRelayOptions,
} from './RelayOptions.js'
import type { RelayServerOptions } from './startRelayServer.js'

/** {@link RelayServerOptions} after validation, every default applied. */
export interface ResolvedServerOptions {
  /** The relay's own options. */
  readonly relay: ResolvedRelayOptions
  /** See {@link RelayServerOptions.port}. */
  readonly port: number
  /** See {@link RelayServerOptions.host}. */
  readonly host: string
  /** See {@link RelayServerOptions.maxConnections}. */
  readonly maxConnections: number
  /** See {@link RelayServerOptions.headerTimeoutMs}. */
  readonly headerTimeoutMs: number
  /** See {@link RelayServerOptions.drainTimeoutMs}. */
  readonly drainTimeoutMs: number
  /** See {@link RelayServerOptions.redisUrl}. */
  readonly redisUrl: string | undefined
  /** See {@link RelayServerOptions.serveMetrics}. */
  readonly serveMetrics: boolean
  /** See {@link RelayServerOptions.metricsToken}. */
  readonly metricsToken: string | undefined
  /** See {@link RelayServerOptions.metricsPort}. */
  readonly metricsPort: number
  /** See {@link RelayServerOptions.metricsHost}. */
  readonly metricsHost: string
}

/** Logs warnings and errors as JSON lines; `info` is left to callers who ask for it. */
const consoleLog = (entry: RelayLogEntry): void => {
  if (entry.level !== 'info') console.error(JSON.stringify(entry))
}

/** Validates options once and applies the defaults; throws one error naming every problem. */
export function resolveRelayOptions(options: RelayOptions): ResolvedRelayOptions {
  const problems: string[] = []
  const resolved = resolveInto(options, problems)
  throwIfAny(problems, resolved.secrets)
  return resolved
}

/**
 * Validates the options of a `node:http` relay (the relay's own, and the server's) once, and
 * applies the defaults; throws one error naming every problem of both.
 */
export function resolveServerOptions(options: RelayServerOptions): ResolvedServerOptions {
  const problems: string[] = []
  const { redisUrl, metricsToken } = options
  const serveMetrics = flag('serveMetrics', options.serveMetrics, problems)
  const redisAllowPlaintext = flag('redisAllowPlaintext', options.redisAllowPlaintext, problems)
  const relay = resolveInto(options, problems, [
    ...(redisUrl ? redisSecrets(redisUrl, redisAllowPlaintext, problems) : []),
    ...(metricsToken ? [metricsToken] : []),
  ])
  const count = counter(problems)
  if (metricsToken !== undefined && !/^[\x21-\x7e]+$/.test(metricsToken)) {
    problems.push(`${optionLabel('metricsToken')} must be printable ASCII without spaces`)
  }
  const metricsPort = options.metricsPort ?? RELAY_DEFAULTS.metricsPort
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) {
    problems.push(
      `${optionLabel('metricsPort')} must be a port number from 0 to 65535; got ${JSON.stringify(metricsPort)}`,
    )
  }
  const resolved: ResolvedServerOptions = {
    relay,
    port: options.port ?? RELAY_DEFAULTS.port,
    host: options.host ?? RELAY_DEFAULTS.host,
    maxConnections: count('maxConnections', options.maxConnections, 1),
    headerTimeoutMs: count('headerTimeoutMs', options.headerTimeoutMs, 1),
    drainTimeoutMs: count('drainTimeoutMs', options.drainTimeoutMs, 1),
    redisUrl,
    serveMetrics,
    metricsToken,
    metricsPort,
    metricsHost: options.metricsHost ?? RELAY_DEFAULTS.metricsHost,
  }
  throwIfAny(problems, relay.secrets)
  return resolved
}

/**
 * The secrets of a Redis URL (`redis://` or `rediss://`, a password in it allowed): the URL
 * itself and its password, as written and decoded; or a problem that never shows them. Plain
 * `redis://` beyond loopback, which would send the password and the shared limits in clear text,
 * needs `allowPlaintext`.
 */
function redisSecrets(value: string, allowPlaintext: boolean, problems: string[]): string[] {
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || !url.hostname) {
    problems.push(
      `${optionLabel('redisUrl')} must be a URL like redis://host:6379 or rediss://:password@host:6380`,
    )
  } else if (url.protocol === 'redis:' && !allowPlaintext && !isLoopback(url.hostname)) {
    problems.push(
      `${optionLabel('redisUrl')} would send the Redis password and the shared limits to ${url.hostname} in clear text: use rediss:// (TLS), or set ${optionLabel('redisAllowPlaintext')} to true if the network between them is trusted`,
    )
  }
  const password = url?.password ?? ''
  return [value, password, decodedOrAsIs(password)].filter(Boolean)
}

/**
 * Whether a URL's hostname is this machine: `localhost`, `127.0.0.0/8` or `::1`. `redis:` URLs
 * are not normalized as `http:` ones are, so the name is matched case-insensitively and a
 * shortened address (`127.1`) is not taken for loopback.
 */
const isLoopback = (hostname: string): boolean =>
  /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i.test(hostname)

/** A password with a stray `%` is taken as written rather than ending the relay with a URIError. */
function decodedOrAsIs(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** Problems never show a credential, whichever option it was mistakenly put in. */
function throwIfAny(problems: string[], secrets: readonly string[]): void {
  if (!problems.length) return
  const redact = createRedactor(secrets)
  throw new RelayConfigError(problems.map((problem) => redact.text(problem)))
}

type CountOption = EnvOption & keyof typeof RELAY_DEFAULTS

/** Validates `true` or `false`, defaulted from {@link RELAY_DEFAULTS}. */
function flag(
  name: 'coalesce' | 'serveMetrics' | 'redisAllowPlaintext',
  value: unknown,
  problems: string[],
): boolean {
  const set: unknown = value ?? RELAY_DEFAULTS[name]
  if (typeof set === 'boolean') return set
  problems.push(`${optionLabel(name)} must be true or false; got ${JSON.stringify(set)}`)
  return RELAY_DEFAULTS[name]
}

/** Validates whole numbers of at least `min`, defaulted from {@link RELAY_DEFAULTS}. */
const counter =
  (problems: string[]) =>
  (name: CountOption, value: unknown, min: number): number => {
    const fallback = RELAY_DEFAULTS[name] as number
    if (value === undefined) return fallback
    if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value
    problems.push(
      `${optionLabel(name)} must be a whole number of at least ${min}; got ${JSON.stringify(value)}`,
    )
    return fallback
  }

/** The relay's own options; `secrets`: the server's, redacted like the SMC credentials. */
function resolveInto(
  options: RelayOptions,
  problems: string[],
  secrets: readonly string[] = [],
): ResolvedRelayOptions {
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

  const count = counter(problems)

  const smcApiUrl = adminUrl(text('smcAdminUrl', options.smcAdminUrl), problems)
  const organization = text('organization', options.organization)
  const apiKey = text('apiKey', options.apiKey, true)
  const apiSecret = text('apiSecret', options.apiSecret, true)
  // The header joins key and secret with a colon, so a colon in the key would move the boundary.
  if (apiKey.includes(':')) problems.push(`${optionLabel('apiKey')} must not contain ":"`)

  const segments = allowedSegments(options.segments ?? RELAY_DEFAULTS.segments, problems)
  const identitySecrets = options.identitySecrets ?? RELAY_DEFAULTS.identitySecrets
  for (const [index, secret] of identitySecrets.entries()) {
    // Shorter keys than the hash's output weaken HMAC-SHA256; a guessable one forges any token.
    if (typeof secret !== 'string' || secret.length < MIN_IDENTITY_SECRET_LENGTH) {
      problems.push(
        `${optionLabel('identitySecrets')} must hold secrets of ${MIN_IDENTITY_SECRET_LENGTH} characters at least; secret ${index + 1} is not`,
      )
    }
  }
  const origins = (options.allowedOrigins ?? RELAY_DEFAULTS.allowedOrigins).flatMap((origin) => {
    const pattern = originPattern(origin)
    if (typeof pattern === 'string') {
      problems.push(`${optionLabel('allowedOrigins')} ${pattern}; got ${JSON.stringify(origin)}`)
      return []
    }
    return [pattern]
  })
  const columns = eventColumns(options.columns ?? RELAY_DEFAULTS.columns, optionLabel('columns'))
  problems.push(...columns.problems)

  const budgetPerMinute = count('budgetPerMinute', options.budgetPerMinute, 1)
  const instances = count('instances', options.instances, 1)
  // Each instance's share is a whole call a minute at least: more instances than calls would
  // together pass the budget whenever they fall back to their shares.
  if (instances > budgetPerMinute) {
    problems.push(
      `${optionLabel('instances')} must be at most budgetPerMinute (${budgetPerMinute}); got ${instances}`,
    )
  }

  const clientBudgetPercent = count('clientBudgetPercent', options.clientBudgetPercent, 0)
  if (clientBudgetPercent > 100) {
    problems.push(
      `${optionLabel('clientBudgetPercent')} must be a percentage from 0 to 100; got ${clientBudgetPercent}`,
    )
  }

  const header = options.clientAddressHeader
  if (header !== undefined && !/^[A-Za-z0-9-]+$/.test(header)) {
    problems.push(
      `${optionLabel('clientAddressHeader')} must be a header name; got ${JSON.stringify(header)}`,
    )
  }
  const trustedProxies = options.trustedProxies ?? RELAY_DEFAULTS.trustedProxies
  // A string from a JavaScript caller is one entry, shown whole when it is not an address.
  const proxies = ipMatcher(Array.isArray(trustedProxies) ? trustedProxies : [trustedProxies])
  for (const entry of proxies.invalid) {
    problems.push(
      `${optionLabel('trustedProxies')} must hold IP addresses or CIDR ranges like 10.0.0.0/8 or fd00::/8; got ${JSON.stringify(entry)}`,
    )
  }
  // Believing the header from every peer lets each client name itself anew with each request.
  if (header !== undefined && !trustedProxies.length) {
    problems.push(
      `${optionLabel('clientAddressHeader')} is believed only from ${optionLabel('trustedProxies')}, which names none: list the proxies that set ${header} (0.0.0.0/0,::/0 trusts every peer)`,
    )
  }
  if (header === undefined && trustedProxies.length) {
    problems.push(
      `${optionLabel('trustedProxies')} is of no use without ${optionLabel('clientAddressHeader')}: name the header they set the client address in`,
    )
  }

  return {
    smcApiUrl,
    basePath: basePath(options.basePath, problems),
    organization,
    apiKeyHeader: `${apiKey}:${apiSecret}`,
    secrets: [`${apiKey}:${apiSecret}`, apiSecret, apiKey, ...identitySecrets, ...secrets].filter(
      (s) => typeof s === 'string' && s.length > 0,
    ),
    eventsList: apiName('eventsList', options.eventsList, RELAY_DEFAULTS.eventsList),
    columns: columns.columns,
    segments,
    identitySecrets,
    identityMaxLifetimeS: count('identityMaxLifetimeS', options.identityMaxLifetimeS, 1),
    allowsOrigin: originMatcher(origins),
    budgetPerMinute,
    instances,
    store: options.store,
    coalesce: flag('coalesce', options.coalesce, problems),
    coalesceWindowMs: count('coalesceWindowMs', options.coalesceWindowMs, 0),
    maxCoalesceWaitMs: count('maxCoalesceWaitMs', options.maxCoalesceWaitMs, 0),
    maxRows: count('maxRows', options.maxRows, 1),
    maxBytes: count('maxBytes', options.maxBytes, 2),
    rateLimitPerClient: count('rateLimitPerClient', options.rateLimitPerClient, 0),
    clientCallsPerMinute: clientCallsPerMinute(budgetPerMinute, clientBudgetPercent),
    clientAddressHeader: header?.toLowerCase(),
    isTrustedProxy: proxies.matches,
    timeoutMs: count('timeoutMs', options.timeoutMs, 1),
    maxSmcCalls: count('maxSmcCalls', options.maxSmcCalls, 1),
    maxBufferedBytes: count('maxBufferedBytes', options.maxBufferedBytes, 2),
    bodyTimeoutMs: count('bodyTimeoutMs', options.bodyTimeoutMs, 1),
    logIntervalMs: count('logIntervalMs', options.logIntervalMs, 1),
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    log: options.log ?? consoleLog,
    metrics: options.metrics,
  }
}

/**
 * The mount path without a trailing `/` (`''` for the root), or a problem. Only characters URLs
 * leave as they are, and no dot segments, so that the prefix reads the same raw as parsed, as the
 * gate requires of a request target.
 */
function basePath(value: unknown, problems: string[]): string {
  if (value === undefined || value === '/') return ''
  if (typeof value === 'string' && /^(\/(?!\.\.?(\/|$))[\w.~-]+)+$/.test(value)) return value
  problems.push(
    `${optionLabel('basePath')} must be a path like /smc (letters, digits, ".", "_", "~" and "-" after each "/", no trailing "/"); got ${JSON.stringify(value)}`,
  )
  return ''
}

/** The shortest identity secret accepted: 32 characters, 256 bits of hex or more of base64. */
const MIN_IDENTITY_SECRET_LENGTH = 32

/** `clientBudgetPercent` of the budget in whole calls, at least one; 0 when the limit is off. */
const clientCallsPerMinute = (budgetPerMinute: number, percent: number): number =>
  percent === 0 ? 0 : Math.max(1, Math.floor((budgetPerMinute * Math.min(percent, 100)) / 100))

/**
 * `LIST/SEGMENT:MATCH_KEY[:remove]` entries by `LIST/SEGMENT`; each list on one match key, since
 * rows matched on different fields of one list could name different people with the same value.
 */
function allowedSegments(
  entries: readonly string[],
  problems: string[],
): ReadonlyMap<string, AllowedSegment> {
  const segments = new Map<string, AllowedSegment>()
  const keyOfList = new Map<string, string>()
  const label = optionLabel('segments')
  for (const entry of Array.isArray(entries) ? entries : [entries]) {
    const [, list = '', segment = '', matchKey = '', remove] =
      /^([^/:]+)\/([^/:]+):([^/:]+)(?::(remove))?$/.exec(String(entry)) ?? []
    if (![list, segment, matchKey].every(isApiName)) {
      problems.push(
        `${label} must hold LIST/SEGMENT:MATCH_KEY entries of SMC api names, :remove after one to allow REMOVE, like USERS/Newsletter:MAIL; got ${JSON.stringify(entry)}`,
      )
      continue
    }
    const name = `${list}/${segment}`
    if (segments.has(name)) problems.push(`${label} names ${name} twice`)
    const listKey = keyOfList.get(list) ?? matchKey
    if (listKey !== matchKey) {
      problems.push(
        `${label} must match every segment of list ${list} on one field; got ${listKey} and ${matchKey}`,
      )
    }
    keyOfList.set(list, listKey)
    segments.set(name, { list, segment, matchKey, remove: remove !== undefined })
  }
  return segments
}

/** `https://acme.slgnt.eu` → `https://acme.slgnt.eu/Portal/Api`, or a problem. */
function adminUrl(value: string, problems: string[]): string {
  if (!value) return ''
  const label = optionLabel('smcAdminUrl')
  // A URL may carry credentials before its host (`https://key:secret@host`): never shown.
  const shown = JSON.stringify(value.replace(/^([^/@]*\/\/)?[^/]*@/, '$1[redacted]@'))
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push(`${label} must be a URL like https://acme.slgnt.eu; got ${shown}`)
    return ''
  }
  if (!httpsOrLoopbackUrl(value)) {
    problems.push(`${label} must use https (http only for localhost); got ${shown}`)
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    problems.push(
      `${label} must be the admin URL without a path or credentials, like https://acme.slgnt.eu; got ${shown}`,
    )
  }
  return `${url.origin}/Portal/Api`
}

/** An allowed origin: exact, or with its first host label a wildcard. */
interface OriginPattern {
  /** `scheme://host[:port]` as browsers send it; for a wildcard, what follows `*`. */
  readonly origin: string
  /** The scheme, e.g. `https:`, of a wildcard pattern; `undefined` for an exact origin. */
  readonly wildcardScheme?: string
}

/**
 * The canonical form of an origin (`scheme://host[:port]`), exact or with one wildcard label in
 * front of at least two labels (`https://*.shop.example`), or what is wrong with it. A wildcard
 * anywhere else (`*`, `https://*.example`, `https://a*.shop.example`, `https://shop.*.example`)
 * is refused: it would allow far more than a site means to. So is one in front of a public
 * suffix, ICANN's (`co.uk`) or a platform's (`github.io`, `vercel.app`), whose names anyone can
 * register; the Public Suffix List comes from tldts, updated with it rather than by hand.
 */
function originPattern(value: string): OriginPattern | string {
  const shape = 'must hold origins like https://shop.example or https://*.shop.example'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return shape
  }
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password
  if (!bare || (url.protocol !== 'https:' && url.protocol !== 'http:')) return shape
  if (!url.hostname.includes('*')) return { origin: url.origin }
  const [first, ...rest] = url.hostname.split('.')
  if (first !== '*' || rest.length < 2 || rest.some((label) => label.includes('*'))) {
    return 'may use * only as a whole first label followed by at least two labels, like https://*.shop.example'
  }
  // A trailing dot names the same host, and browsers send it as written.
  const parent = rest.join('.').replace(/\.$/, '')
  if (getPublicSuffix(parent, { allowPrivateDomains: true }) === parent) {
    return `must not put * in front of ${parent}, a public suffix: anyone can register a name under it and call the relay from there; list each of your origins exactly, like ${url.protocol}//yours.${parent}`
  }
  return { origin: url.origin.slice(`${url.protocol}//*`.length), wildcardScheme: url.protocol }
}

/** Whether an `Origin` value matches one of the patterns; a wildcard stands for one label. */
function originMatcher(patterns: readonly OriginPattern[]): (origin: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.wildcardScheme).map((p) => p.origin))
  const wildcards = patterns.filter((p) => p.wildcardScheme)
  return (origin) => {
    if (exact.has(origin)) return true
    return wildcards.some((pattern) => {
      const prefix = `${pattern.wildcardScheme}//`
      if (!origin.startsWith(prefix) || !origin.endsWith(pattern.origin)) return false
      const label = origin.slice(prefix.length, origin.length - pattern.origin.length)
      return /^[a-z0-9-]+$/.test(label)
    })
  }
}
