import { optionLabel } from './envNames.js'
import { counter, flag, throwIfAny } from './optionChecks.js'
import { RELAY_DEFAULTS } from './relayDefaults.js'
import type { RelayServerOptions } from './RelayServerOptions.js'
import { RESOLVED } from './ResolvedRelayOptions.js'
import type { ResolvedServerOptions } from './ResolvedServerOptions.js'
import { resolveInto } from './resolveRelayOptions.js'

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
    [RESOLVED]: true,
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
