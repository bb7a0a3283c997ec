import { isApiName } from '../../smc/isApiName.js'
import { originMatcher, originPattern } from '../gate/corsPolicy.js'
import { ipMatcher } from '../gate/ipMatcher.js'
import { adminUrl } from './adminUrl.js'
import { allowedSegments } from './allowedSegments.js'
import { optionLabel, type EnvOption } from './envNames.js'
import { eventColumns } from './eventColumns.js'
import { counter, flag, throwIfAny } from './optionChecks.js'
import { RELAY_DEFAULTS } from './relayDefaults.js'
import type { RelayLogEntry, RelayOptions } from './RelayOptions.js'
import { RESOLVED, type ResolvedRelayOptions } from './ResolvedRelayOptions.js'

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

/** The relay's own options; `secrets`: the server's, redacted like the SMC credentials. */
export function resolveInto(
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
    [RESOLVED]: true,
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
