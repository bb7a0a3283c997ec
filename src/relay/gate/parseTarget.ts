import { isApiName } from '../../smc/isApiName.js'
import { IDENTITY_PARAMETER, smcTarget } from '../../smc/targets.js'
import type { Target } from '../../smc/Target.js'
import { RelayError } from '../RelayError.js'
import type { ResolvedRelayOptions } from '../config/ResolvedRelayOptions.js'

/** A request the gate accepted: where its rows go in SMC, rebuilt from configuration. */
export interface RelayTarget extends Target {
  /** Identifies requests that may share one SMC call: method, path and query. */
  readonly key: string
  /** Cells every row must have. */
  readonly arity: number
  /** What SMC must know for this target, named for the operator when it does not: the list, and the segment if any. */
  readonly names: string
  /** Whether the target changes a static segment's membership (ADD or REMOVE). */
  readonly segmentChange: boolean
  /** The `identityToken` query parameter of a segment change, if sent; never forwarded. */
  readonly identityToken?: string
}

// The targets the plugin builds, with `*` (which URI-encoding leaves as it is) for every name:
// each becomes a pattern that captures the organization, the list and the segment, in that order.
const SHAPES = (
  [
    ['events', smcTarget('*', '*', ['*'])],
    ['segmentAdd', smcTarget('*', '*', ['*'], '*', true)],
    ['segmentRemove', smcTarget('*', '*', ['*'], '*', false)],
  ] as const
).map(([shape, { method, path }]) => ({
  shape,
  method,
  pattern: new RegExp(`^${path.replaceAll('*', '([^/]+)')}$`),
}))

/**
 * The gate's path and query half: only the targets the plugin builds (docs/design.md#targets),
 * the configured organization, events list and columns, the allowed segments and changes, and
 * exactly the `keyFields` and `fields` parameters (with the segment's match key), and an
 * identity token on segment changes. `rawTarget` is the request target as received: WHATWG URLs resolve
 * `..` silently, and a dot segment is refused rather than resolved; any other target that does not
 * read as `url` does is refused too.
 */
export function parseTarget(
  method: string,
  url: URL,
  rawTarget: string | undefined,
  config: ResolvedRelayOptions,
): RelayTarget {
  const rawPath = (rawTarget ?? url.pathname).split('?')[0] ?? ''
  if (/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(rawPath) || /\\|%2f|%5c/i.test(rawPath)) {
    throw new RelayError(
      400,
      'ERR_UNSAFE_PATH',
      'The path must not contain dot segments, backslashes or encoded slashes',
    )
  }
  // What the gate checks must be what is forwarded: a target the URL parser would rewrite
  // (another host in front, characters it encodes) is refused rather than read two ways.
  if (rawTarget !== undefined && rawTarget !== url.pathname + url.search) {
    throw new RelayError(
      400,
      'ERR_REQUEST_TARGET',
      'The request target must be a path on this host, written as URLs write it',
    )
  }
  // Under the mount path only; what follows it is read as the relay at the root reads its path.
  const { basePath } = config
  const path = url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length) : ''
  const matches = SHAPES.filter((s) => s.pattern.test(path))
  const match = matches.find((s) => s.method === method)
  if (!match) {
    if (matches.length) {
      throw new RelayError(
        405,
        'ERR_METHOD_NOT_ALLOWED',
        `Method ${method} is not allowed on this path`,
        {
          headers: { Allow: matches.map((s) => s.method).join(', ') },
        },
      )
    }
    throw new RelayError(
      404,
      'ERR_NOT_FOUND',
      `Only SMC list loads and static segment changes are relayed, under ${basePath}/`,
    )
  }
  const [, rawOrganization = '', list = '', segment = ''] = match.pattern.exec(path) ?? []

  if (decode(rawOrganization) !== config.organization) {
    throw new RelayError(
      403,
      'ERR_ORGANIZATION',
      `Organization ${JSON.stringify(decode(rawOrganization))} is not served by this relay`,
    )
  }
  const names = match.shape === 'events' ? { list } : { list, segment }
  for (const [name, value] of Object.entries(names)) {
    if (!isApiName(value))
      throw new RelayError(
        400,
        'ERR_API_NAME',
        `The ${name} name ${JSON.stringify(value)} is not an SMC api name`,
      )
  }
  const { organization } = config

  if (match.shape === 'events') {
    if (list !== config.eventsList) {
      throw new RelayError(
        403,
        'ERR_LIST_NOT_ALLOWED',
        `List ${JSON.stringify(list)} is not the events list of this relay`,
      )
    }
    const [keyField = ''] = config.columns
    checkQuery(url.searchParams, keyField, config.columns.join(','))
    return relayTarget(
      smcTarget(organization, list, config.columns),
      config.columns.length,
      `events list "${list}"`,
      false,
    )
  }

  const add = match.shape === 'segmentAdd'
  // One answer for a segment that does not exist and one not allowed: the gate tells nobody
  // which segments SMC holds.
  const allowed = config.segments.get(`${list}/${segment}`)
  if (!allowed || (!add && !allowed.remove)) {
    throw new RelayError(
      403,
      'ERR_SEGMENT_NOT_ALLOWED',
      `${add ? 'Adding to' : 'Removing from'} static segment ${JSON.stringify(segment)} of list ${JSON.stringify(list)} is not allowed through this relay`,
    )
  }
  const identityToken = checkQuery(url.searchParams, allowed.matchKey, allowed.matchKey, true)
  return {
    ...relayTarget(
      smcTarget(organization, list, [allowed.matchKey], segment, add),
      1,
      `static segment "${segment}" of list "${list}"`,
      true,
    ),
    ...(identityToken === undefined ? {} : { identityToken }),
  }
}

const relayTarget = (
  target: Target,
  arity: number,
  names: string,
  segmentChange: boolean,
): RelayTarget => ({
  ...target,
  key: `${target.method} ${target.path}?${target.query}`,
  arity,
  names,
  segmentChange,
})

/**
 * Exactly `keyFields` and `fields`, once each, with the expected values, and on a segment change
 * (`identity`) at most one {@link IDENTITY_PARAMETER}, which it returns; nothing else.
 */
function checkQuery(
  params: URLSearchParams,
  keyFields: string,
  fields: string,
  identity = false,
): string | undefined {
  const expected = new Map([
    ['keyFields', keyFields],
    ['fields', fields],
  ])
  const seen = new Set<string>()
  for (const [name, value] of params) {
    if (!expected.has(name) && !(identity && name === IDENTITY_PARAMETER)) {
      throw new RelayError(
        400,
        'ERR_QUERY_PARAMETER',
        `Query parameter ${JSON.stringify(name)} is not allowed`,
      )
    }
    if (seen.has(name))
      throw new RelayError(
        400,
        'ERR_QUERY_PARAMETER',
        `Query parameter ${JSON.stringify(name)} is repeated`,
      )
    seen.add(name)
    if (expected.has(name) && value !== expected.get(name)) {
      throw new RelayError(
        400,
        'ERR_QUERY_PARAMETER',
        `${name} must be ${JSON.stringify(expected.get(name))}; got ${JSON.stringify(value)}`,
      )
    }
  }
  for (const name of expected.keys()) {
    if (!seen.has(name))
      throw new RelayError(
        400,
        'ERR_QUERY_PARAMETER',
        `Query parameter ${JSON.stringify(name)} is required`,
      )
  }
  return params.get(IDENTITY_PARAMETER) ?? undefined
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
