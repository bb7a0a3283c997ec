const MIN_SCANNED_LENGTH = 6

/** Removes secrets from values that leave the relay. */
export interface Redactor {
  /** A copy of a JSON-like value with the secrets cut out of every string value in it. */
  value<T>(value: T): T
  /** Text with the secrets cut out; JSON text has them cut out of its strings only, so its numbers survive. */
  text(text: string): string
}

/**
 * Applied to everything that leaves the relay and did not originate in it (SMC's bodies, log
 * details), should SMC or a runtime ever echo the header it received.
 */
export function createRedactor(secrets: readonly string[]): Redactor {
  // Longest first, so that `key:secret` is replaced whole before its parts. Real SMC keys are long
  // random strings; a secret of a few characters would match ordinary words, so it is not scanned.
  const ordered = secrets
    .filter((s) => s.length >= MIN_SCANNED_LENGTH)
    .sort((a, b) => b.length - a.length)
  const scrub = (s: string): string =>
    ordered.reduce((out, secret) => out.split(secret).join('[redacted]'), s)
  const value = <T>(input: T): T => {
    if (typeof input === 'string') return scrub(input) as T
    if (Array.isArray(input)) return input.map(value) as T
    if (input && typeof input === 'object' && Object.getPrototypeOf(input) === Object.prototype) {
      return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, value(v)])) as T
    }
    return input
  }
  return {
    value,
    text(text) {
      if (!ordered.some((secret) => text.includes(secret))) return text
      try {
        return JSON.stringify(value(JSON.parse(text) as unknown))
      } catch {
        return scrub(text)
      }
    },
  }
}
