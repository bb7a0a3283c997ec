import { version } from '../version.js'
import { RelayConfigError } from './RelayConfigError.js'
import { RELAY_DEFAULTS } from './relayDefaults.js'
import { ENV_NAMES, type RelayLogEntry } from './RelayOptions.js'
import { relayOptionsFromEnv } from './relayOptionsFromEnv.js'
import { resolveRelayOptions } from './resolveRelayOptions.js'
import { startRelayServer } from './startRelayServer.js'

// `selligent-relay`: starts the relay from environment variables (docs/design.md#relay). Exit codes:
// 2 for a configuration problem, 1 when the server cannot listen.

const logLine = (entry: RelayLogEntry): void => {
  const line = JSON.stringify({ time: new Date().toISOString(), ...entry })
  if (entry.level === 'info') console.log(line)
  else console.error(line)
}

/** Every problem of the environment: unparseable variables and invalid options together. */
function configurationProblems(env: ReturnType<typeof relayOptionsFromEnv>): string[] {
  try {
    resolveRelayOptions(env.options)
    return [...env.problems]
  } catch (error) {
    if (error instanceof RelayConfigError) return [...env.problems, ...error.problems]
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
    'Configured by environment variables (see the README, "Relay"):',
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
  const problems = configurationProblems(env)
  if (problems.length) {
    console.error(`selligent-relay: invalid configuration\n- ${problems.join('\n- ')}`)
    process.exit(2)
  }
  try {
    const relay = await startRelayServer({
      ...env.options,
      port: env.port,
      host: env.host,
      log: logLine,
    })
    const { smcApiUrl, organization, eventsList } = resolveRelayOptions(env.options)
    console.log(
      `selligent-relay listening on ${relay.url} → ${smcApiUrl} (organization ${organization}, events list ${eventsList})`,
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
