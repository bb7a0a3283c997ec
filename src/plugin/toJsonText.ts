/** Longest string kept inside a JSON cell; longer ones are cut (a URL fits, a pasted file does not). */
export const MAX_STRING = 2048
/** Longest JSON cell; past it the remaining top-level keys are left out and `$truncated` is set. */
export const MAX_JSON = 16_384
const MAX_DEPTH = 8

/** Cuts `text` to `max` UTF-16 units without splitting a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max
  return text.slice(0, end)
}

/**
 * Turns any value into plain JSON data, by one rule: what JSON can hold is kept, the rest is
 * made harmless. Strings are clipped to {@link MAX_STRING}; `BigInt` becomes its decimal string;
 * `Date` its ISO string (invalid: null); functions, symbols and `undefined` are left out (null in
 * arrays, as JSON does); a cycle becomes `"[Circular]"`; past {@link MAX_DEPTH} levels
 * `"[Truncated]"`; `__proto__` keys are dropped so no consumer can be prototype-polluted; getters
 * or `toJSON` that throw leave their value out.
 */
function plain(value: unknown, ancestors: object[]): unknown {
  switch (typeof value) {
    case 'string':
      return clip(value, MAX_STRING)
    case 'number':
      return Number.isFinite(value) ? value : null
    case 'boolean':
      return value
    case 'bigint':
      return value.toString()
    case 'object':
      if (value === null) return null
      if (value instanceof Date) return isNaN(value.getTime()) ? null : value.toISOString()
      if (ancestors.includes(value)) return '[Circular]'
      if (ancestors.length >= MAX_DEPTH) return '[Truncated]'
      ancestors.push(value)
      try {
        const toJSON = (value as { toJSON?: unknown }).toJSON
        if (typeof toJSON === 'function') return plain(toJSON.call(value), ancestors)
        if (Array.isArray(value)) return value.map((item) => plain(item, ancestors) ?? null)
        const out: Record<string, unknown> = {}
        for (const key of Object.keys(value)) {
          const item =
            key === '__proto__'
              ? undefined
              : plain((value as Record<string, unknown>)[key], ancestors)
          if (item !== undefined) Object.defineProperty(out, key, { value: item, enumerable: true })
        }
        return out
      } catch {
        return undefined
      } finally {
        ancestors.pop()
      }
    default:
      return undefined
  }
}

/**
 * JSON text of `value` for a PROPERTIES or CONTEXT cell: `""` when there is nothing, never
 * throws, never longer than about {@link MAX_JSON} (top-level keys that do not fit are left out).
 */
export function toJsonText(value: unknown): string {
  const data = plain(value, [])
  if (data === undefined || data === null) return ''
  const text = JSON.stringify(data)
  if (text.length <= MAX_JSON || typeof data !== 'object' || Array.isArray(data)) {
    return text.length <= MAX_JSON ? text : '"[Truncated]"'
  }
  const kept: Record<string, unknown> = { $truncated: true }
  let size = 20
  for (const [key, item] of Object.entries(data)) {
    const length = JSON.stringify(key).length + JSON.stringify(item).length + 2
    if (size + length > MAX_JSON) continue
    size += length
    kept[key] = item
  }
  return JSON.stringify(kept)
}
