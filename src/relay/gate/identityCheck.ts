import { RelayError } from '../RelayError.js'

/**
 * Checks a segment change's identity token against its rows (docs/relay.md, "Signed identity"):
 * `v1.<expiry>.<signature>`, the expiry in Unix seconds, the signature the unpadded base64url
 * HMAC-SHA256 of `v1.<expiry>.<subject>` under one of the secrets, the subject the key value of
 * every row. Throws a 403 {@link RelayError} saying what is wrong; resolves when the token holds.
 */
export type IdentityCheck = (
  token: string | undefined,
  rows: readonly (readonly string[])[],
) => Promise<void>

/** Seconds a token's expiry may be off by between the site's clock and the relay's. */
const CLOCK_SKEW_S = 60

const TOKEN = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/

/**
 * The check for these `secrets` (any may have signed) and the longest validity a token may
 * claim. Web Crypto only: the relay runs on edge runtimes, which have no `node:crypto`.
 */
export function identityCheck(
  secrets: readonly string[],
  maxLifetimeS: number,
  now: () => number = Date.now,
): IdentityCheck {
  const encoder = new TextEncoder()
  let keys: Promise<CryptoKey[]> | undefined
  const refuse = (code: string, message: string): RelayError => new RelayError(403, code, message)

  return async (token, rows) => {
    if (token === undefined)
      throw refuse('ERR_IDENTITY_REQUIRED', 'A segment change needs an identityToken')
    const [, expiry = '', signature = ''] = TOKEN.exec(token) ?? []
    if (!signature)
      throw refuse('ERR_IDENTITY_INVALID', 'The identityToken is not a v1 identity token')
    const nowS = Math.floor(now() / 1000)
    if (Number(expiry) < nowS - CLOCK_SKEW_S)
      throw refuse('ERR_IDENTITY_EXPIRED', 'The identityToken has expired')
    if (Number(expiry) > nowS + maxLifetimeS + CLOCK_SKEW_S) {
      throw refuse(
        'ERR_IDENTITY_INVALID',
        `The identityToken is valid for longer than this relay accepts (${maxLifetimeS} s)`,
      )
    }
    const subjects = new Set(rows.map((row) => row[0]))
    const [subject] = subjects
    keys ??= Promise.all(
      secrets.map((secret) =>
        crypto.subtle.importKey(
          'raw',
          encoder.encode(secret),
          { name: 'HMAC', hash: 'SHA-256' },
          false,
          ['sign'],
        ),
      ),
    )
    const signed = encoder.encode(`v1.${expiry}.${subject ?? ''}`)
    let valid = false
    for (const key of await keys) {
      const actual = base64Url(new Uint8Array(await crypto.subtle.sign('HMAC', key, signed)))
      // Every secret is tried, so the time taken tells nothing of which one signed.
      valid = equalInConstantTime(actual, signature) || valid
    }
    if (!valid || subjects.size !== 1) {
      throw refuse(
        'ERR_IDENTITY_MISMATCH',
        "The identityToken was not signed for the key value of this request's rows",
      )
    }
  }
}

/**
 * Whether two texts are equal, in time that depends only on their lengths. Compared as text, not
 * decoded bytes: base64 decoders ignore a last character's spare bits, so one signature would
 * have several spellings.
 */
function equalInConstantTime(a: string, b: string): boolean {
  let difference = a.length ^ b.length
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i % b.length)
  return difference === 0
}

/** Unpadded base64url, as the token carries its signature. */
const base64Url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '')
