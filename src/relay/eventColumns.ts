import type { EventColumns } from './RelayOptions.js'

/** The standard columns of an event row in the order the plugin sends them (design §3). */
export const STANDARD_COLUMNS = [
  'EVENT_ID',
  'EVENT_TYPE',
  'EVENT_NAME',
  'USER_ID',
  'ANONYMOUS_ID',
  'PREVIOUS_ID',
  'PROPERTIES',
  'CONTEXT',
  'TIMESTAMP',
] as const

/** SMC api names (lists, segments, fields) are limited to these characters. */
export const isApiName = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(value)

/**
 * Applies renames and drops to the standard columns, exactly as the plugin does, so the relay
 * expects the `fields` the plugin sends. Returns the columns and the problems found.
 */
export function eventColumns(
  columns: EventColumns,
  label: string,
): { columns: string[]; problems: string[] } {
  const problems: string[] = []
  const standard: readonly string[] = STANDARD_COLUMNS
  for (const key of Object.keys(columns)) {
    if (!standard.includes(key)) {
      problems.push(
        `${label} has an unknown column ${JSON.stringify(key)}; known: ${standard.join(', ')}`,
      )
    }
  }
  const result: string[] = []
  for (const column of STANDARD_COLUMNS) {
    const name = columns[column]
    if (name === null && column === 'EVENT_ID') {
      problems.push(`${label}: EVENT_ID is the upsert key; it can be renamed, not dropped`)
    } else if (name === null) {
      continue
    } else if (name === undefined) {
      result.push(column)
    } else if (isApiName(name)) {
      result.push(name)
    } else {
      problems.push(
        `${label}.${column} ${JSON.stringify(name)} is not an SMC api name (letters, digits, _ and -)`,
      )
    }
  }
  const duplicate = result.find((name, i) => result.indexOf(name) !== i)
  if (duplicate) problems.push(`${label} names the column ${JSON.stringify(duplicate)} twice`)
  return { columns: result, problems }
}
