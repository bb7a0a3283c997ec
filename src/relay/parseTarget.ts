import { isApiName } from '../smc/isApiName.js'
import { smcTarget } from '../smc/targets.js'
import type { Target } from '../smc/Target.js'
import { RelayError } from './RelayError.js'
import type { ResolvedRelayOptions } from './RelayOptions.js'

/** A request the gate accepted: where its rows go in SMC, rebuilt from configuration. */
export interface RelayTarget extends Target {
  /** Identifies requests that may share one SMC call: method, path and query. */
  readonly key: string
  /** Cells every row must have. */
  readonly arity: number
  /** What SMC must know for this target, named for the operator when it does not: the list, and the segment if any. */
  readonly names: string
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
 * the configured organization, events list, columns and user lists, and exactly the `keyFields`
 * and `fields` parameters. `rawTarget` is the request target as received: WHATWG URLs resolve
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
    )
  }

  if (!config.userLists.has(list)) {
    throw new RelayError(
      403,
      'ERR_LIST_NOT_ALLOWED',
      `Static segments of list ${JSON.stringify(list)} may not be changed through this relay`,
    )
  }
  const matchKey = url.searchParams.get('keyFields') ?? ''
  if (!isApiName(matchKey)) {
    throw new RelayError(
      400,
      'ERR_QUERY_PARAMETER',
      `keyFields must be one SMC field name; got ${JSON.stringify(matchKey)}`,
    )
  }
  checkQuery(url.searchParams, matchKey, matchKey)
  const add = match.shape === 'segmentAdd'
  return relayTarget(
    smcTarget(organization, list, [matchKey], segment, add),
    1,
    `static segment "${segment}" of list "${list}"`,
  )
}

const relayTarget = (target: Target, arity: number, names: string): RelayTarget => ({
  ...target,
  key: `${target.method} ${target.path}?${target.query}`,
  arity,
  names,
})

/** Exactly `keyFields` and `fields`, once each, with the expected values; nothing else. */
function checkQuery(params: URLSearchParams, keyFields: string, fields: string): void {
  const expected = new Map([
    ['keyFields', keyFields],
    ['fields', fields],
  ])
  const seen = new Set<string>()
  for (const [name, value] of params) {
    if (!expected.has(name)) {
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
    if (value !== expected.get(name)) {
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
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
