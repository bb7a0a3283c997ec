import { parseJson } from '../smc/parseJson.js'

const MIN_SCANNED_LENGTH = 6
const REDACTED = '[redacted]'

/** Removes secrets from values that leave the relay. */
export interface Redactor {
  /** A copy of a JSON-like value with the secrets cut out of every string value in it. */
  value<T>(value: T): T
  /**
   * Text with the secrets cut out; JSON text has them cut out of its parsed strings and keys, so
   * escapes cannot hide them and its numbers survive.
   */
  text(text: string): string
  /** {@link text}, with the JSON value it parsed the text into (redacted); `undefined`: not JSON. */
  answer(text: string): RedactedAnswer
}

/** An answer's text with the secrets cut out, parsed once. */
export interface RedactedAnswer {
  /** The text, redacted. */
  readonly text: string
  /** Its JSON value, redacted; `undefined` when the text is not JSON. */
  readonly body: unknown
}

/**
 * Applied to everything that leaves the relay and did not originate in it (SMC's bodies, log
 * details, configuration problems), should SMC, a runtime or an operator's typo echo a
 * credential. Each secret is cut out as written, %-encoded, in hex, and in base64 (standard and
 * URL-safe) at each of the three byte offsets a longer encoded text can put it at.
 */
export function createRedactor(secrets: readonly string[]): Redactor {
  // Real SMC keys are long random strings; a secret of a few characters would match ordinary
  // words, so it is not scanned. Longest first, so that `key:secret` is cut whole before its parts.
  const forms = [
    ...new Set(secrets.filter((s) => s.length >= MIN_SCANNED_LENGTH).flatMap(encodedForms)),
  ]
    .filter((form) => form.length >= MIN_SCANNED_LENGTH)
    .sort((a, b) => b.length - a.length)
  const pattern = forms.length
    ? new RegExp(forms.map((form) => form.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'), 'g')
    : undefined
  const scrub = (s: string): string => (pattern ? s.replace(pattern, REDACTED) : s)
  const value = <T>(input: T): T => {
    if (typeof input === 'string') return scrub(input) as T
    if (Array.isArray(input)) return input.map(value) as T
    if (input && typeof input === 'object' && Object.getPrototypeOf(input) === Object.prototype) {
      return Object.fromEntries(Object.entries(input).map(([k, v]) => [scrub(k), value(v)])) as T
    }
    return input
  }
  const answer = (text: string): RedactedAnswer => {
    const body = parseJson(text)
    if (!pattern) return { text, body }
    if (body === undefined) return { text: scrub(text), body }
    // Judged on the parsed value: an escape (`\u0073`) hides a secret from the text, not from
    // whoever parses it. Text with nothing to cut is kept as written.
    const redacted = value(body)
    const redactedText = JSON.stringify(redacted)
    return { text: redactedText === JSON.stringify(body) ? text : redactedText, body: redacted }
  }
  return {
    value,
    text: (text) => (pattern ? answer(text).text : text),
    answer,
  }
}

/**
 * The texts `secret` can appear as: itself, %-encoded, hex (both cases), and base64 in both
 * alphabets. Base64 turns 3 bytes into 4 characters, so where the secret starts in a longer
 * encoded text (offset 0, 1 or 2 in its group of 3) changes all of its characters; for each
 * offset, only the characters made of the secret's bits alone are kept: they appear in any
 * encoding of any text that holds the secret at that offset.
 */
function encodedForms(secret: string): string[] {
  const bytes = new TextEncoder().encode(secret)
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')
  const forms = [secret, encodeURIComponent(secret), hex, hex.toUpperCase()]
  for (const offset of [0, 1, 2]) {
    const padded = new Uint8Array(offset + bytes.length)
    padded.set(bytes, offset)
    const encoded = base64(padded)
    // Character k holds bits [6k, 6k + 6); the secret's bits are [8 * offset, 8 * (offset + n)).
    const core = encoded.slice(
      Math.ceil((8 * offset) / 6),
      Math.floor((8 * (offset + bytes.length)) / 6),
    )
    forms.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'))
  }
  return forms
}

/** Standard base64 of bytes, with the runtime-neutral `btoa`. */
function base64(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}
