import type { RelayServerOptions } from './RelayServerOptions.js'

/** The environment variable of each option, used by the CLI and to name options in errors. */
export const ENV_NAMES = {
  smcAdminUrl: 'SMC_ADMIN_URL',
  organization: 'SMC_ORGANIZATION',
  apiKey: 'SMC_API_KEY',
  apiSecret: 'SMC_API_SECRET',
  basePath: 'RELAY_BASE_PATH',
  eventsList: 'SMC_EVENTS_LIST',
  columns: 'SMC_EVENTS_COLUMNS',
  segments: 'SMC_SEGMENTS',
  identitySecrets: 'RELAY_IDENTITY_SECRETS',
  identityMaxLifetimeS: 'RELAY_IDENTITY_MAX_LIFETIME_S',
  allowedOrigins: 'RELAY_ALLOWED_ORIGINS',
  budgetPerMinute: 'RELAY_BUDGET_PER_MINUTE',
  instances: 'RELAY_INSTANCES',
  coalesce: 'RELAY_COALESCE',
  coalesceWindowMs: 'RELAY_COALESCE_WINDOW_MS',
  maxCoalesceWaitMs: 'RELAY_MAX_COALESCE_WAIT_MS',
  maxRows: 'RELAY_MAX_ROWS',
  maxBytes: 'RELAY_MAX_BYTES',
  rateLimitPerClient: 'RELAY_RATE_LIMIT_PER_CLIENT',
  clientBudgetPercent: 'RELAY_CLIENT_BUDGET_PERCENT',
  clientAddressHeader: 'RELAY_CLIENT_ADDRESS_HEADER',
  trustedProxies: 'RELAY_TRUSTED_PROXIES',
  timeoutMs: 'RELAY_TIMEOUT_MS',
  maxSmcCalls: 'RELAY_MAX_SMC_CALLS',
  maxBufferedBytes: 'RELAY_MAX_BUFFERED_BYTES',
  bodyTimeoutMs: 'RELAY_BODY_TIMEOUT_MS',
  logIntervalMs: 'RELAY_LOG_INTERVAL_MS',
  maxConnections: 'RELAY_MAX_CONNECTIONS',
  headerTimeoutMs: 'RELAY_HEADER_TIMEOUT_MS',
  drainTimeoutMs: 'RELAY_DRAIN_TIMEOUT_MS',
  redisUrl: 'REDIS_URL',
  redisAllowPlaintext: 'RELAY_REDIS_ALLOW_PLAINTEXT',
  serveMetrics: 'RELAY_METRICS',
  metricsToken: 'RELAY_METRICS_TOKEN',
  metricsPort: 'RELAY_METRICS_PORT',
  metricsHost: 'RELAY_METRICS_HOST',
} as const satisfies Partial<Record<keyof RelayServerOptions, string>>

/** An option that can be set from the environment. */
export type EnvOption = keyof typeof ENV_NAMES

/** Names an option the way both library and CLI users know it: `smcAdminUrl (SMC_ADMIN_URL)`. */
export const optionLabel = (name: EnvOption): string => `${name} (${ENV_NAMES[name]})`
