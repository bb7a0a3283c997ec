import { isApiName } from './isApiName.js'

// Shared by the plugin and the relay: runtime-neutral, so the relay imports no browser code and
// both sides agree on the event columns by construction.

/** The standard columns of an event row, in the order they are sent (docs/design.md#event-rows). */
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

/** One of the standard columns of an event row. */
export type StandardColumn = (typeof STANDARD_COLUMNS)[number]

/**
 * Applies the `columns` setting (renames, and drops with `null`) to the standard columns: the
 * columns sent, in order, as [index in {@link STANDARD_COLUMNS}, name in SMC]. Each bad entry is
 * handed to `problem` with the rule it breaks; `EVENT_ID`, the upsert key, cannot be dropped.
 */
export function resolveColumns(
  overrides: Readonly<Record<string, unknown>>,
  problem: (key: string, rule: string, value: unknown) => void,
): [number, string][] {
  for (const key in overrides) {
    if (!(STANDARD_COLUMNS as readonly string[]).includes(key)) {
      problem(key, `one of ${STANDARD_COLUMNS.join()}`, key)
    }
  }
  const names: string[] = []
  return STANDARD_COLUMNS.flatMap((column, index): [number, string][] => {
    const name = overrides[column] === undefined ? column : overrides[column]
    if (isApiName(name) && !names.includes(name)) {
      names.push(name)
      return [[index, name]]
    }
    if (name !== null || column === 'EVENT_ID') {
      problem(
        column,
        `an SMC field name used once${column === 'EVENT_ID' ? ' (it cannot be dropped)' : ', or null'}`,
        name,
      )
    }
    return []
  })
}
