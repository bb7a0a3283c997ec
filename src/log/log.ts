/** What every console line of the plugin starts with: one console filter shows them all. */
export const LOG_PREFIX = '[Selligent Marketing Cloud]'

/**
 * Writes one console line. Debug lines go to `console.info`, not `console.debug`: Chrome hides
 * the latter ("Verbose") by default, and whoever turned `debug` on wants to see them.
 */
export function log(level: 'info' | 'warn' | 'error', ...parts: unknown[]): void {
  console[level](LOG_PREFIX, ...parts)
}

const warned = new Set<string>()

/** A warning once per page, however many plugins run into it. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return
  warned.add(message)
  log('warn', message)
}
