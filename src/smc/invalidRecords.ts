/**
 * SMC's `invalid_records` as a list, read the same way by the verdict and by the relay's split of
 * a merged answer: one record given as itself rather than in an array counts too.
 */
export function invalidRecords(result: { readonly invalid_records?: unknown }): unknown[] {
  const found = result.invalid_records
  return Array.isArray(found) ? found : [found]
}
