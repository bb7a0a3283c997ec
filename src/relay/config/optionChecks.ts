import { createRedactor } from '../createRedactor.js'
import { RelayConfigError } from '../RelayConfigError.js'
import { optionLabel, type EnvOption } from './envNames.js'
import { RELAY_DEFAULTS } from './relayDefaults.js'

/** Problems never show a credential, whichever option it was mistakenly put in. */
export function throwIfAny(problems: string[], secrets: readonly string[]): void {
  if (!problems.length) return
  const redact = createRedactor(secrets)
  throw new RelayConfigError(problems.map((problem) => redact.text(problem)))
}

type CountOption = EnvOption & keyof typeof RELAY_DEFAULTS

/** Validates `true` or `false`, defaulted from {@link RELAY_DEFAULTS}. */
export function flag(
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
export const counter =
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
