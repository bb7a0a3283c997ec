import { getPublicSuffix } from 'tldts'
import { RelayError } from '../RelayError.js'

/** What the relay may answer a request's origin. */
export interface CorsDecision {
  /** Headers every answer to this request carries (empty for same-origin or origin-less requests). */
  readonly headers: Readonly<Record<string, string>>
}

const ALLOWED_METHODS = 'POST, DELETE'
/** The browser only needs to read `Retry-After` to hold its rows for the right time. */
const EXPOSED_HEADERS = 'Retry-After'
const PREFLIGHT_MAX_AGE_S = '600'

/**
 * Decides on the `Origin` of a request: no origin (server-to-server, beacons of some browsers) and
 * the relay's own host pass; other origins must be allowed by `allowsOrigin`. The relay's own host
 * is the `Host` header, which a browser sets and a page cannot; the URL's host can come from the
 * request target instead (`//other.example/…`). Comparing hosts, not schemes, keeps same-origin
 * calls working behind a TLS-terminating proxy.
 */
export function corsPolicy(
  request: Request,
  url: URL,
  allowsOrigin: (origin: string) => boolean,
): CorsDecision {
  const ownHost = request.headers.get('host') ?? url.host
  const origin = request.headers.get('origin')
  if (origin === null) return { headers: {} }
  let host: string | undefined
  try {
    host = new URL(origin).host
  } catch {
    host = undefined // `null` and other opaque origins
  }
  if (host === ownHost) return { headers: {} }
  if (allowsOrigin(origin)) {
    return {
      headers: {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Expose-Headers': EXPOSED_HEADERS,
        Vary: 'Origin',
      },
    }
  }
  throw new RelayError(
    403,
    'ERR_ORIGIN_NOT_ALLOWED',
    `Origin ${JSON.stringify(origin)} is not allowed to use this relay`,
  )
}

/** Answers a CORS preflight: only the methods and the one header the plugin uses. */
export function preflightResponse(request: Request, cors: CorsDecision): Response {
  const method = request.headers.get('access-control-request-method')
  if (method !== 'POST' && method !== 'DELETE') {
    throw new RelayError(
      405,
      'ERR_METHOD_NOT_ALLOWED',
      `Preflight for method ${JSON.stringify(method)}: only POST and DELETE are relayed`,
      {
        headers: { Allow: ALLOWED_METHODS },
      },
    )
  }
  return new Response(null, {
    status: 204,
    headers: {
      ...cors.headers,
      'Access-Control-Allow-Methods': ALLOWED_METHODS,
      'Access-Control-Allow-Headers': 'Content-Type',
      'Access-Control-Max-Age': PREFLIGHT_MAX_AGE_S,
    },
  })
}

/** An allowed origin: exact, or with its first host label a wildcard. */
export interface OriginPattern {
  /** `scheme://host[:port]` as browsers send it; for a wildcard, what follows `*`. */
  readonly origin: string
  /** The scheme, e.g. `https:`, of a wildcard pattern; `undefined` for an exact origin. */
  readonly wildcardScheme?: string
}

/**
 * The canonical form of an origin (`scheme://host[:port]`), exact or with one wildcard label in
 * front of at least two labels (`https://*.shop.example`), or what is wrong with it. A wildcard
 * anywhere else (`*`, `https://*.example`, `https://a*.shop.example`, `https://shop.*.example`)
 * is refused: it would allow far more than a site means to. So is one in front of a public
 * suffix, ICANN's (`co.uk`) or a platform's (`github.io`, `vercel.app`), whose names anyone can
 * register; the Public Suffix List comes from tldts, updated with it rather than by hand.
 */
export function originPattern(value: string): OriginPattern | string {
  const shape = 'must hold origins like https://shop.example or https://*.shop.example'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return shape
  }
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password
  if (!bare || (url.protocol !== 'https:' && url.protocol !== 'http:')) return shape
  if (!url.hostname.includes('*')) return { origin: url.origin }
  const [first, ...rest] = url.hostname.split('.')
  if (first !== '*' || rest.length < 2 || rest.some((label) => label.includes('*'))) {
    return 'may use * only as a whole first label followed by at least two labels, like https://*.shop.example'
  }
  // A trailing dot names the same host, and browsers send it as written.
  const parent = rest.join('.').replace(/\.$/, '')
  if (getPublicSuffix(parent, { allowPrivateDomains: true }) === parent) {
    return `must not put * in front of ${parent}, a public suffix: anyone can register a name under it and call the relay from there; list each of your origins exactly, like ${url.protocol}//yours.${parent}`
  }
  return { origin: url.origin.slice(`${url.protocol}//*`.length), wildcardScheme: url.protocol }
}

/** Whether an `Origin` value matches one of the patterns; a wildcard stands for one label. */
export function originMatcher(patterns: readonly OriginPattern[]): (origin: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.wildcardScheme).map((p) => p.origin))
  const wildcards = patterns.filter((p) => p.wildcardScheme)
  return (origin) => {
    if (exact.has(origin)) return true
    return wildcards.some((pattern) => {
      const prefix = `${pattern.wildcardScheme}//`
      if (!origin.startsWith(prefix) || !origin.endsWith(pattern.origin)) return false
      const label = origin.slice(prefix.length, origin.length - pattern.origin.length)
      return /^[a-z0-9-]+$/.test(label)
    })
  }
}
