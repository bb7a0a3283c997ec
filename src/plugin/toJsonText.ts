/** Longest string kept inside a JSON cell; longer ones are cut (a URL fits, a pasted file does not). */
export const MAX_STRING = 2048
/** Longest JSON cell; past it the remaining top-level keys are left out and `$truncated` is set. */
const MAX_JSON = 16_384
const MAX_DEPTH = 8

/** Cuts `text` to `max` UTF-16 units without splitting a surrogate pair. */
export function clip(text: string, max: number): string {
  return text.length > max
    ? text.slice(0, /[\uD800-\uDBFF]/.test(text[max - 1] as string) ? max - 1 : max)
    : text
}

/**
 * Makes any value safe for `JSON.stringify`, by one rule: what JSON can hold is kept, the rest is
 * made harmless. Strings are clipped to {@link MAX_STRING}; `BigInt` becomes its decimal string;
 * a cycle becomes `"[Circular]"`; an array or object past {@link MAX_DEPTH} levels
 * `"[Truncated]"`; `__proto__` keys are dropped so no consumer can be prototype-polluted; an
 * object whose getter or `toJSON` throws is left out. A value's `toJSON` is called once, first,
 * as `JSON.stringify` calls it (a `Date` is its ISO string at any depth, invalid: null), so that
 * what `JSON.stringify` writes of a value needing none of this is what it writes of this copy (see
 * {@link toJsonText}; one exception: a `Number`, `String` or `Boolean` object, which this copies as
 * an object). `JSON.stringify` does the rest: NaN/Infinity → null, functions, symbols and
 * `undefined` left out (null inside arrays).
 */
function plain(value: unknown, ancestors: object[]): unknown {
  const depth = ancestors.length
  try {
    const toJSON = (value as { toJSON?: unknown } | null | undefined)?.toJSON
    if (typeof toJSON === 'function') value = toJSON.call(value)
    if (typeof value === 'string') return clip(value, MAX_STRING)
    if (typeof value === 'bigint') return String(value)
    if (typeof value !== 'object' || value === null) return value
    if (ancestors.includes(value)) return '[Circular]'
    if (depth >= MAX_DEPTH) return '[Truncated]'
    ancestors.push(value)
    if (Array.isArray(value)) return value.map((item) => plain(item, ancestors))
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      if (key !== '__proto__') out[key] = plain((value as Record<string, unknown>)[key], ancestors)
    }
    return out
  } catch {
    return undefined
  } finally {
    // Whatever this call added, and only that.
    ancestors.length = depth
  }
}

/**
 * JSON text of `value` for a PROPERTIES or CONTEXT cell: `""` when there is nothing, never
 * throws, never longer than about {@link MAX_JSON} (top-level keys that do not fit are left out).
 */
export function toJsonText(value: unknown): string {
  // Most values need nothing made safe, and `JSON.stringify` alone writes them far faster than a
  // copy by `plain` (docs/performance-page-view.md). Its text is final when none of the rule's
  // cases can be in it: it threw on none (a cycle, a BigInt, a throwing getter or toJSON), no string
  // is longer than the whole text, no `__proto__` key, no more brackets than the levels kept.
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    // Made safe below.
  }
  if (
    !text ||
    text.length > MAX_STRING ||
    text.includes('"__proto__"') ||
    text.split(/[[{]/).length > MAX_DEPTH + 1
  ) {
    const data = plain(value, []) as Record<string, unknown> | null | undefined
    text = JSON.stringify(data) ?? ''
    if (text.length > MAX_JSON) {
      const kept: Record<string, unknown> = { $truncated: true }
      let size = 20
      for (const key in data) {
        const length = key.length + (JSON.stringify(data[key])?.length ?? 0) + 4
        if (size + length <= MAX_JSON && !Array.isArray(data)) {
          size += length
          kept[key] = data[key]
        }
      }
      text = JSON.stringify(kept)
    }
  }
  return text === 'null' ? '' : text
}
