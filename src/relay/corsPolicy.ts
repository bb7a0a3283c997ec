import { RelayError } from './RelayError.js'

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
