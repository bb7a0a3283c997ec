/** SMC api names (lists, segments, fields) are limited to these characters. */
export const isApiName = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(value)
