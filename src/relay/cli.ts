import { version } from '../version.js'
import { createRedactor } from './createRedactor.js'
import { RelayConfigError } from './RelayConfigError.js'
import { RELAY_DEFAULTS } from './config/relayDefaults.js'
import { ENV_NAMES } from './config/envNames.js'
import type { RelayLogEntry } from './config/RelayOptions.js'
import { relayOptionsFromEnv } from './config/relayOptionsFromEnv.js'
import { resolveServerOptions } from './config/resolveServerOptions.js'
import type { ResolvedServerOptions } from './config/ResolvedServerOptions.js'
import { startRelayServer } from './server/startRelayServer.js'

// `selligent-relay`: starts the relay from environment variables (docs/design.md#relay). Exit codes:
// 2 for a configuration problem, 1 when the server cannot listen. SIGTERM and SIGINT drain it
// (RELAY_DRAIN_TIMEOUT_MS), then it exits with 0.

const logLine = (entry: RelayLogEntry): void => {
  const line = JSON.stringify({ time: new Date().toISOString(), ...entry })
  if (entry.level === 'info') console.log(line)
  else console.error(line)
}

/** The resolved options, or every problem of the environment: unparseable variables and invalid options together. */
function configuration(
  env: ReturnType<typeof relayOptionsFromEnv>,
): ResolvedServerOptions | string[] {
  // A credential put in the wrong variable must not be printed with that variable's problem.
  const { apiKey = '', apiSecret = '', redisUrl = '', metricsToken = '' } = env.options
  const redact = createRedactor([
    `${apiKey}:${apiSecret}`,
    apiSecret,
    apiKey,
    redisUrl,
    metricsToken,
  ])
  const parseProblems = env.problems.map((problem) => redact.text(problem))
  try {
    const resolved = resolveServerOptions({
      ...env.options,
      port: env.port,
      host: env.host,
      log: logLine,
    })
    return parseProblems.length ? parseProblems : resolved
  } catch (error) {
    if (error instanceof RelayConfigError) return [...parseProblems, ...error.problems]
    throw error
  }
}

/** One line per environment variable: the option it sets and its default, from the one table. */
function usage(): string {
  const defaults: Record<string, unknown> = RELAY_DEFAULTS
  const line = (variable: string, option: string): string => {
    const fallback = defaults[option]
    const shown =
      fallback === undefined
        ? 'no default'
        : `default ${JSON.stringify(fallback).replace(/^"|"$/g, '')}`
    return `  ${variable.padEnd(29)} ${option} (${shown})`
  }
  return [
    `selligent-relay ${version}: relays the plugin's rows to Selligent Marketing Cloud.`,
    'Configured by environment variables (docs/relay.md, "Configuration"):',
    ...Object.entries(ENV_NAMES).map(([option, variable]) => line(variable, option)),
    line('PORT', 'port'),
    line('HOST', 'host'),
    'Options: --help, --version.',
  ].join('\n')
}

async function main(): Promise<void> {
  const [flag] = process.argv.slice(2)
  if (flag === '--help' || flag === '-h') return void console.log(usage())
  if (flag === '--version' || flag === '-v') return void console.log(version)
  const env = relayOptionsFromEnv(process.env)
  const resolved = configuration(env)
  if (Array.isArray(resolved)) {
    console.error(`selligent-relay: invalid configuration\n- ${resolved.join('\n- ')}`)
    process.exit(2)
  }
  try {
    const relay = await startRelayServer(resolved)
    const { smcApiUrl, organization, eventsList } = resolved.relay
    const metrics = relay.metricsUrl ? `; metrics on ${relay.metricsUrl}` : ''
    console.log(
      `selligent-relay listening on ${relay.url} → ${smcApiUrl} (organization ${organization}, events list ${eventsList})${metrics}`,
    )
    const stop = (): void => void relay.close().then(() => process.exit(0))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  } catch (error) {
    console.error(
      `selligent-relay: cannot start: ${error instanceof Error ? error.message : String(error)}`,
    )
    process.exit(1)
  }
}

void main()
