import { RELAY_DEFAULTS } from './relayDefaults.js'
import { ENV_NAMES, type EnvOption } from './envNames.js'
import type { EventColumns } from './RelayOptions.js'
import type { RelayServerOptions } from './RelayServerOptions.js'

/** What the CLI read from its environment. */
export interface RelayEnv {
  /**
   * The options to give {@link startRelayServer} with `port` and `host` (or {@link createRelay},
   * which has no use for the server's own); still to be validated.
   */
  readonly options: Omit<RelayServerOptions, 'port' | 'host'>
  /** `PORT`. */
  readonly port: number
  /** `HOST`. */
  readonly host: string
  /** Variables that could not be parsed at all, each named with its value. */
  readonly problems: readonly string[]
}

/** Reads the relay's options from environment variables (names: {@link ENV_NAMES}). */
export function relayOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): RelayEnv {
  const problems: string[] = []
  const read = (name: EnvOption): string | undefined => {
    const value = env[ENV_NAMES[name]]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const list = (name: EnvOption): string[] | undefined =>
    read(name)
      ?.split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
  const integer = (variable: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined
    if (/^\d+$/.test(value)) return Number(value)
    problems.push(`${variable} must be a whole number; got ${JSON.stringify(value)}`)
    return undefined
  }
  const number = (name: EnvOption): number | undefined => integer(ENV_NAMES[name], read(name))
  const flag = (name: EnvOption): boolean | undefined => {
    const value = read(name)
    if (value === undefined) return undefined
    if (value === 'true' || value === 'false') return value === 'true'
    problems.push(`${ENV_NAMES[name]} must be true or false; got ${JSON.stringify(value)}`)
    return undefined
  }

  const options: Record<string, unknown> = {
    // Required values are passed even when empty, so that validation names each missing one.
    smcAdminUrl: env[ENV_NAMES.smcAdminUrl] ?? '',
    organization: env[ENV_NAMES.organization] ?? '',
    apiKey: env[ENV_NAMES.apiKey] ?? '',
    apiSecret: env[ENV_NAMES.apiSecret] ?? '',
    basePath: read('basePath'),
    eventsList: read('eventsList'),
    columns: columns(read('columns'), problems),
    segments: list('segments'),
    identitySecrets: list('identitySecrets'),
    identityMaxLifetimeS: number('identityMaxLifetimeS'),
    allowedOrigins: list('allowedOrigins'),
    budgetPerMinute: number('budgetPerMinute'),
    instances: number('instances'),
    coalesce: flag('coalesce'),
    coalesceWindowMs: number('coalesceWindowMs'),
    maxCoalesceWaitMs: number('maxCoalesceWaitMs'),
    maxRows: number('maxRows'),
    maxBytes: number('maxBytes'),
    rateLimitPerClient: number('rateLimitPerClient'),
    clientBudgetPercent: number('clientBudgetPercent'),
    clientAddressHeader: read('clientAddressHeader'),
    trustedProxies: list('trustedProxies'),
    timeoutMs: number('timeoutMs'),
    maxSmcCalls: number('maxSmcCalls'),
    maxBufferedBytes: number('maxBufferedBytes'),
    bodyTimeoutMs: number('bodyTimeoutMs'),
    logIntervalMs: number('logIntervalMs'),
    maxConnections: number('maxConnections'),
    headerTimeoutMs: number('headerTimeoutMs'),
    drainTimeoutMs: number('drainTimeoutMs'),
    redisUrl: read('redisUrl'),
    redisAllowPlaintext: flag('redisAllowPlaintext'),
    serveMetrics: flag('serveMetrics'),
    metricsToken: read('metricsToken'),
    metricsPort: number('metricsPort'),
    metricsHost: read('metricsHost'),
  }
  // exactOptionalPropertyTypes: an unset variable must leave its option absent, not undefined.
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key]

  const port = integer('PORT', env.PORT?.trim() || undefined) ?? RELAY_DEFAULTS.port
  if (port > 65535) problems.push(`PORT must be at most 65535; got ${JSON.stringify(env.PORT)}`)
  return {
    options: options as unknown as RelayEnv['options'],
    port,
    host: env.HOST?.trim() || RELAY_DEFAULTS.host,
    problems,
  }
}

/** `SMC_EVENTS_COLUMNS` is the plugin's `columns` setting as JSON, e.g. `{"CONTEXT":null}`. */
function columns(value: string | undefined, problems: string[]): EventColumns | undefined {
  if (value === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(value)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as EventColumns
  } catch {
    // reported below, with the value
  }
  problems.push(
    `${ENV_NAMES.columns} must be a JSON object like {"CONTEXT":null}; got ${JSON.stringify(value)}`,
  )
  return undefined
}
