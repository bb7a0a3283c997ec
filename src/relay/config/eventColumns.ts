import { resolveColumns } from '../../smc/columns.js'
import type { EventColumns } from './RelayOptions.js'

/**
 * The `fields` the plugin sends for these `columns` (the very rule it applies), so the relay
 * expects exactly them. Returns the columns and the problems found, named with `label`.
 */
export function eventColumns(
  columns: EventColumns,
  label: string,
): { columns: string[]; problems: string[] } {
  const problems: string[] = []
  const resolved = resolveColumns(columns, (key, rule, value) =>
    problems.push(`${label}.${key} must be ${rule}; got ${JSON.stringify(value)}`),
  )
  return { columns: resolved.map(([, name]) => name), problems }
}
