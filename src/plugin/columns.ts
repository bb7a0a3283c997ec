/** The standard columns of an event row, in the order they are sent (design §3). */
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

/** SMC api names (lists, segments, fields) are limited to these characters. */
export const isApiName = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(value)
