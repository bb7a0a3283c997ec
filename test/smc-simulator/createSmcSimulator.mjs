// A local stand-in for Selligent Marketing Cloud's REST API, faithful to ../../../shared/smc/README.md
// (shapes from its swagger-v1.yaml), for the relay's tests, the demo and the benchmark.
// It is deliberately independent of src/: a test asset must not share the code it judges.
//
// Served under {basePath} (default /Portal/Api), like SMC:
//   GET    /status
//   POST   /organizations/{org}/lists/{list}/data/load?keyFields=…&fields=…
//   POST   /organizations/{org}/lists/{list}/segments/{segment}/data/load?keyFields=…&fields=…
//   DELETE /organizations/{org}/lists/{list}/segments/{segment}/data?keyFields=…&fields=…
// Control endpoints (JSON, no credentials, CORS open):
//   GET  /__smc/state    → what it stored, its counters, faults and recent calls (see state())
//   GET  /__smc/faults   → current faults
//   POST /__smc/faults   ← partial faults, merged (see Faults): { unavailable, rateLimited, delayMs,
//                          dropConnection, resultCode, refuseWhole, maxCallRows, unlisted, echo, chaos }
//   POST /__smc/reset    → forget rows, memberships, calls, faults and the rate window

import { createServer } from 'node:http'
import { createListStore } from './createListStore.mjs'
import {
  DEFAULT_API_KEY,
  DEFAULT_API_SECRET,
  DEFAULT_LISTS,
  DEFAULT_ORGANIZATION,
  DEFAULT_RATE_LIMIT_PER_MINUTE,
} from './defaults.mjs'

/**
 * @typedef {object} SimulatorOptions
 * @property {string} [organization] the organization served (default `acme`)
 * @property {string} [apiKey] the accepted key (default `sim-key`)
 * @property {string} [apiSecret] the accepted secret (default `sim-secret`)
 * @property {Record<string, import('./defaults.mjs').ListDefinition>} [lists] lists, columns with max lengths, segments
 * @property {number} [rateLimitPerMinute] calls per minute per key before 429 (default 2500)
 * @property {string} [basePath] where the API is served (default `/Portal/Api`)
 * @property {number} [logSize] recent calls kept for inspection (default 100)
 * @property {(call: CallRecord) => void} [onCall] told of every API call, e.g. to stream it to a page
 * @property {() => number} [now] clock, for tests of the rate window
 */

/**
 * @typedef {object} Faults
 * @property {boolean} unavailable every API call answers 503 (maintenance)
 * @property {boolean} rateLimited every API call answers 429 as if the quota were spent
 * @property {number} delayMs every API call waits this long first
 * @property {boolean} dropConnection every API call has its connection dropped without an answer
 * @property {string} resultCode every call answers HTTP 200 with this `result_code` (`Failed`,
 *   `ValidationFailed`, `NotFound`, `ServiceUnavailable`, `InternalServerError`) and stores nothing
 * @property {string} refuseWhole a call holding an invalid row is refused as a whole, lists no
 *   record and stores nothing: `400` (HTTP 400 `ValidationFailed`), or HTTP 200 with this
 *   `result_code` (`Failed`, `ValidationFailed`)
 * @property {number} maxCallRows calls with more rows answer 413 and store nothing (0: no limit)
 * @property {number} unlisted that many valid rows of each call are not stored: counted in
 *   `number_of_failed_records`, yet not listed in `invalid_records`, and the answer says
 *   `PartiallySucceeded`
 * @property {string} echo every call is refused with 400, its message repeating the `X-ApiKey`
 *   received (the key, the secret, and both) as written here: `raw`, `uri` (%-encoded), `base64`,
 *   `base64url` or `hex`, each at the three byte alignments base64 has
 * @property {Chaos | null} chaos faults drawn per call from a seeded generator
 */

/**
 * @typedef {object} Chaos
 * @property {number} seed seeds the generator: the same seed and calls draw the same faults
 * @property {Partial<Record<ChaosKind, number>>} rates the probability of each kind per call
 * @property {number} [slowMs] the delay of `slow` (default 50)
 * @property {number} [maxCallRows] the row limit of `tooLarge` (default 10)
 */

/**
 * @typedef {'slow' | 'dropBefore' | 'dropAfter' | 'unavailable' | 'rateLimited' | 'notFound'
 *   | 'serviceUnavailable' | 'internalServerError' | 'refuseWhole' | 'tooLarge' | 'unlisted'} ChaosKind
 * One fault a call may draw: `slow` waits `slowMs` and answers; `dropBefore` drops the connection
 * before storing, `dropAfter` after; `unavailable` 503; `rateLimited` 429; `notFound` 404
 * `NotFound`; `serviceUnavailable`, `internalServerError` HTTP 200 with that `result_code`, storing
 * nothing; `refuseWhole`, `tooLarge`, `unlisted` as the faults of those names (one row or more
 * unlisted, drawn).
 */

/**
 * @typedef {object} CallRecord
 * @property {string} at ISO time
 * @property {string} method
 * @property {string} path path below the base path
 * @property {string} query query string without `?`
 * @property {'valid' | 'invalid' | 'missing'} auth whether `X-ApiKey` was right (never the value)
 * @property {string[]} headerNames lower-cased names of the headers received
 * @property {number} rows rows in the body
 * @property {unknown[]} sample the first rows of the body
 * @property {number} status answer status, 0 for a dropped connection
 * @property {string | undefined} resultCode `result_code` of the answer
 * @property {number} ms time taken
 */

const FAULTS = Object.freeze({
  unavailable: false,
  rateLimited: false,
  delayMs: 0,
  dropConnection: false,
  resultCode: '',
  refuseWhole: '',
  maxCallRows: 0,
  unlisted: 0,
  echo: '',
  chaos: /** @type {Chaos | null} */ (null),
})
const CHAOS_KINDS = [
  'slow',
  'dropBefore',
  'dropAfter',
  'unavailable',
  'rateLimited',
  'notFound',
  'serviceUnavailable',
  'internalServerError',
  'refuseWhole',
  'tooLarge',
  'unlisted',
]
const WHOLE_REFUSALS = ['400', 'Failed', 'ValidationFailed']
const ECHO_ENCODINGS = ['raw', 'uri', 'base64', 'base64url', 'hex']
const SAMPLE_ROWS = 20
const WINDOW_MS = 60_000
const KNOWN_MODES = ['Sync', 'Stream']
const KNOWN_DEDUPLICATION = ['ImportLastMatch', 'ImportFirstMatch']
const KNOWN_IMPORT_OPTIONS = ['InsertAndUpdate', 'OnlyInsert', 'OnlyUpdate']

/** Rejection of a call whose connection is to be dropped without an answer. */
export class SimulatedDropError extends Error {
  name = 'SimulatedDropError'
}

/** @param {SimulatorOptions} [options] */
export function createSmcSimulator(options = {}) {
  const {
    organization = DEFAULT_ORGANIZATION,
    apiKey = DEFAULT_API_KEY,
    apiSecret = DEFAULT_API_SECRET,
    lists: definitions = DEFAULT_LISTS,
    rateLimitPerMinute = DEFAULT_RATE_LIMIT_PER_MINUTE,
    basePath = '/Portal/Api',
    logSize = 100,
    onCall,
    now = Date.now,
  } = options

  /** @type {Map<string, ReturnType<typeof createListStore>>} */
  let lists
  /** @type {Faults} */
  let faults
  /** @type {CallRecord[]} */
  let log
  let calls
  let windowStart
  let windowCount
  /** Calls being answered now, and the most there have been at once. */
  let inFlight
  let maxInFlight
  /** Draws the chaos faults; seeded by `chaos.seed`. */
  let random = seededRandom(0)

  const reset = () => {
    lists = new Map(
      Object.entries(definitions).map(([name, definition]) => [name, createListStore(definition)]),
    )
    faults = { ...FAULTS }
    log = []
    calls = 0
    windowStart = now()
    windowCount = 0
    inFlight = 0
    maxInFlight = 0
  }
  reset()

  /** The chaos fault this call draws, if any. @returns {ChaosKind | undefined} */
  const drawChaos = () => {
    if (!faults.chaos) return undefined
    let draw = random()
    for (const kind of CHAOS_KINDS) {
      draw -= faults.chaos.rates[kind] ?? 0
      if (draw < 0) return /** @type {ChaosKind} */ (kind)
    }
    return undefined
  }

  const rateWindow = () => {
    if (now() - windowStart >= WINDOW_MS) {
      windowStart = now()
      windowCount = 0
    }
    return {
      limit: rateLimitPerMinute,
      remaining: Math.max(0, rateLimitPerMinute - windowCount),
      resetSeconds: Math.max(1, Math.ceil((windowStart + WINDOW_MS - now()) / 1000)),
    }
  }

  const state = () => ({
    organization,
    calls,
    inFlight,
    maxInFlight,
    faults: { ...faults },
    rateLimit: rateWindow(),
    lists: Object.fromEntries([...lists].map(([name, list]) => [name, list.snapshot()])),
    log: [...log],
  })

  /** @param {Partial<Faults>} change */
  const setFaults = (change) => {
    for (const key of /** @type {(keyof Faults)[]} */ (Object.keys(FAULTS))) {
      const value = change[key]
      if (value === undefined) continue
      if (typeof value !== typeof FAULTS[key])
        throw new TypeError(
          `fault ${key} must be a ${typeof FAULTS[key]}; got ${JSON.stringify(value)}`,
        )
      if (key === 'chaos' && value !== null) checkChaos(value)
      if (key === 'refuseWhole' && value && !WHOLE_REFUSALS.includes(value))
        throw new TypeError(`fault refuseWhole must be one of ${WHOLE_REFUSALS}; got ${value}`)
      if (key === 'echo' && value && !ECHO_ENCODINGS.includes(value))
        throw new TypeError(`fault echo must be one of ${ECHO_ENCODINGS}; got ${value}`)
      // @ts-expect-error key and value types match, checked above
      faults[key] = value
      if (key === 'chaos' && value) random = seededRandom(value.seed)
    }
    return { ...faults }
  }

  /** @param {Request} request @param {URL} url */
  const control = async (request, url) => {
    const route = `${request.method} ${url.pathname}`
    if (route === 'GET /__smc/state') return json(200, state(), CORS)
    if (route === 'GET /__smc/faults') return json(200, faults, CORS)
    if (route === 'POST /__smc/reset') {
      reset()
      return json(200, state(), CORS)
    }
    if (route === 'POST /__smc/faults') {
      try {
        return json(200, setFaults(JSON.parse(await request.text())), CORS)
      } catch (error) {
        return json(400, { message: String(error) }, CORS)
      }
    }
    if (request.method === 'OPTIONS')
      return new Response(null, {
        status: 204,
        headers: {
          ...CORS,
          'Access-Control-Allow-Methods': 'GET, POST',
          'Access-Control-Allow-Headers': 'Content-Type',
        },
      })
    return text(404, `No control endpoint ${route}`, CORS)
  }

  /**
   * Serves one request as SMC would.
   * @param {Request} request
   * @returns {Promise<Response>} rejects with {@link SimulatedDropError} when the connection is to be dropped
   */
  const handler = async (request) => {
    const url = new URL(request.url)
    if (url.pathname.startsWith('/__smc/')) return control(request, url)
    if (!url.pathname.startsWith(`${basePath}/`))
      return text(404, `No HTTP resource was found that matches the request URI '${url.pathname}'.`)
    const path = url.pathname.slice(basePath.length)
    if (path === '/status' && request.method === 'GET') {
      return faults.unavailable ? text(503, 'Service Unavailable') : json(200, { status: 'OK' })
    }

    calls++
    const started = now()
    const given = request.headers.get('x-apiKey')
    const body = await request.text()
    /** @type {CallRecord} */
    const record = {
      at: new Date(started).toISOString(),
      method: request.method,
      path,
      query: url.search.slice(1),
      auth: given === null ? 'missing' : given === `${apiKey}:${apiSecret}` ? 'valid' : 'invalid',
      headerNames: [...request.headers.keys()],
      rows: 0,
      sample: [],
      status: 0,
      resultCode: undefined,
      ms: 0,
    }
    const finish = async (/** @type {Response | undefined} */ response) => {
      record.status = response?.status ?? 0
      record.ms = now() - started
      // Loads note their result code themselves; error bodies are small enough to read back.
      if (
        record.resultCode === undefined &&
        response?.headers.get('content-type')?.startsWith('application/json')
      ) {
        record.resultCode = (await response.clone().json())?.result_code
      }
      log.push(record)
      if (log.length > logSize) log.shift()
      onCall?.(record)
      return response
    }

    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    // A call the client gave up on is no longer in flight, even while its handler winds down.
    let ended = false
    const end = () => {
      if (!ended) inFlight--
      ended = true
    }
    request.signal.addEventListener('abort', end)
    try {
      const fault = drawChaos()
      const delay = faults.delayMs + (fault === 'slow' ? (faults.chaos?.slowMs ?? 50) : 0)
      if (delay > 0) await sleep(delay, request.signal)
      if (faults.dropConnection || fault === 'dropBefore') {
        await finish(undefined)
        throw new SimulatedDropError('connection dropped (fault injected)')
      }
      const response = await answer(
        request.method,
        path,
        url.searchParams,
        request.headers.get('content-type'),
        body,
        record,
        fault,
        given ?? '',
      )
      if (fault === 'dropAfter') {
        // The rows are stored; only the answer is lost.
        await finish(undefined)
        throw new SimulatedDropError('connection dropped after storing (fault injected)')
      }
      return /** @type {Response} */ (await finish(response))
    } finally {
      end()
    }
  }

  /**
   * @param {string} method @param {string} path @param {URLSearchParams} params
   * @param {string | null} contentType @param {string} body @param {CallRecord} record
   * @param {ChaosKind | undefined} fault @param {string} given the `X-ApiKey` received
   */
  const answer = async (method, path, params, contentType, body, record, fault, given) => {
    if (faults.unavailable || fault === 'unavailable')
      return text(503, 'The service is unavailable.', { 'Retry-After': '1' })
    if (record.auth !== 'valid') return text(401, 'Authorization has been denied for this request.')
    const window = rateWindow()
    if (faults.rateLimited || window.remaining === 0 || fault === 'rateLimited') {
      return text(
        429,
        `API calls quota exceeded! The maximum allowed is ${rateLimitPerMinute} per minute`,
        rateHeaders({ ...window, remaining: 0, ...(fault ? { resetSeconds: 1 } : {}) }),
      )
    }
    windowCount++
    const headers = rateHeaders(rateWindow())
    if (faults.echo) {
      const message = `Unknown credentials: ${echoes(given, faults.echo).join(' ')}`
      return failed(400, 'ValidationFailed', 'ERR_CREDENTIALS', message, headers)
    }

    const route = ROUTES.find((r) => r.pattern.test(path))
    if (!route)
      return text(
        404,
        `No HTTP resource was found that matches the request URI '${basePath}${path}'.`,
        headers,
      )
    if (route.method !== method)
      return json(
        405,
        { Message: `The requested resource does not support http method '${method}'.` },
        headers,
      )
    const [, org = '', listName = '', segment = ''] = route.pattern.exec(path) ?? []
    if (decode(org) !== organization) {
      return failed(
        403,
        'Failed',
        'ERR_ORGANIZATION_ACCESS_DENIED',
        `Access to organization '${decode(org)}' is denied`,
        headers,
      )
    }
    const list = lists.get(listName)
    if (!list || fault === 'notFound')
      return failed(
        404,
        'NotFound',
        'ERR_LIST_NOT_FOUND',
        `List with api name '${listName}' was not found`,
        headers,
      )
    if (route.kind !== 'load' && !list.hasSegment(segment)) {
      return failed(
        404,
        'NotFound',
        'ERR_SEGMENT_NOT_FOUND',
        `Segment with api name '${segment}' was not found in list '${listName}'`,
        headers,
      )
    }

    const type = (contentType ?? '').split(';')[0]?.trim()
    if (type !== 'application/json' && type !== 'text/json') {
      return json(
        415,
        {
          Message: `The request entity's media type '${type}' is not supported for this resource.`,
        },
        headers,
      )
    }
    /** @type {unknown} */
    let rows
    try {
      rows = JSON.parse(body)
    } catch {
      rows = undefined
    }
    if (!Array.isArray(rows))
      return failed(
        400,
        'ValidationFailed',
        'ERR_VALIDATION',
        'The body must be a JSON array of records',
        headers,
      )
    record.rows = rows.length
    record.sample = rows.slice(0, SAMPLE_ROWS)

    const query = readQuery(params, list.columns, rows)
    if (typeof query === 'string')
      return failed(400, 'ValidationFailed', 'ERR_VALIDATION', query, headers)
    const data = query.headerRow ? rows.slice(1) : rows

    // Injected refusals and failures: nothing is stored.
    const code =
      faults.resultCode ||
      { serviceUnavailable: 'ServiceUnavailable', internalServerError: 'InternalServerError' }[
        fault ?? ''
      ]
    if (code) return json(200, (record.resultCode = code) && storedNothing(code, data), headers)
    const maxCallRows =
      faults.maxCallRows || (fault === 'tooLarge' ? (faults.chaos?.maxCallRows ?? 10) : 0)
    if (maxCallRows && data.length > maxCallRows) {
      const message = `The request holds ${data.length} records; at most ${maxCallRows} are accepted`
      return failed(413, 'Failed', 'ERR_REQUEST_TOO_LARGE', message, headers)
    }
    const refuseWhole =
      faults.refuseWhole ||
      (fault === 'refuseWhole' ? WHOLE_REFUSALS[Math.floor(random() * WHOLE_REFUSALS.length)] : '')
    if (refuseWhole && list.hasInvalid(data, query.fields)) {
      const message = 'The request holds an invalid record'
      if (refuseWhole === '400')
        return failed(400, 'ValidationFailed', 'ERR_VALIDATION', message, headers)
      record.resultCode = refuseWhole
      return json(200, storedNothing(refuseWhole, data), headers)
    }
    const unlisted =
      faults.unlisted || (fault === 'unlisted' ? 1 + Math.floor(random() * data.length) : 0)
    const options = { ...query.options, unlisted }
    const model =
      route.kind === 'load'
        ? list.load(data, query.keyFields, query.fields, options)
        : route.kind === 'segmentAdd'
          ? list.addToSegment(segment, data, query.keyFields, query.fields, options)
          : list.removeFromSegment(segment, data, query.keyFields, query.fields)
    record.resultCode = model.result_code
    return json(200, model, headers)
  }

  /** The node:http listener: like {@link handler}, and really drops connections. */
  const nodeListener = createNodeListener(handler)

  /** @type {Set<import('node:http').Server>} */
  const servers = new Set()

  return {
    handler,
    nodeListener,
    /**
     * Listens on loopback.
     * @param {number} [port] default 0: a free port
     * @param {string} [host]
     */
    async listen(port = 0, host = '127.0.0.1') {
      const server = createServer(nodeListener)
      await new Promise((resolve) => server.listen(port, host, () => resolve(undefined)))
      servers.add(server)
      const address = /** @type {import('node:net').AddressInfo} */ (server.address())
      const url = `http://${host}:${address.port}`
      return {
        url,
        /** The base URL a client appends SMC paths to. */
        apiUrl: `${url}${basePath}`,
        port: address.port,
        close: () => closeServer(server).then(() => servers.delete(server)),
      }
    },
    /** Closes every server {@link listen} started. */
    close: () => Promise.all([...servers].map(closeServer)).then(() => servers.clear()),
    state,
    setFaults,
    reset,
    /** API calls received since the last reset, refused ones included (not `status` or control calls). */
    get calls() {
      return calls
    },
  }
}

const ROUTES = [
  {
    kind: 'load',
    method: 'POST',
    pattern: /^\/organizations\/([^/]+)\/lists\/([^/]+)\/data\/load$/,
  },
  {
    kind: 'segmentAdd',
    method: 'POST',
    pattern: /^\/organizations\/([^/]+)\/lists\/([^/]+)\/segments\/([^/]+)\/data\/load$/,
  },
  {
    kind: 'segmentRemove',
    method: 'DELETE',
    pattern: /^\/organizations\/([^/]+)\/lists\/([^/]+)\/segments\/([^/]+)\/data$/,
  },
]

const CORS = { 'Access-Control-Allow-Origin': '*' }

/**
 * `keyFields`, `fields` (or the body's header row) and the optional parameters, or what is wrong.
 * @param {URLSearchParams} params @param {string[]} columns @param {unknown[]} rows
 */
function readQuery(params, columns, rows) {
  const keyFields = split(params.get('keyFields'))
  if (!keyFields.length) return 'The keyFields parameter is required'
  const headerRow = !params.has('fields')
  const fields = headerRow
    ? Array.isArray(rows[0])
      ? rows[0].map(String)
      : []
    : split(params.get('fields'))
  if (!fields.length) return 'The fields parameter is missing and the body has no header row'
  const unknown = [...keyFields, ...fields].find((f) => !columns.includes(f))
  if (unknown) return `Field '${unknown}' does not exist in the list`
  const missingKey = keyFields.find((k) => !fields.includes(k))
  if (missingKey) return `Key field '${missingKey}' is not among the fields`
  const checks = [
    ['mode', KNOWN_MODES],
    ['deduplication', KNOWN_DEDUPLICATION],
    ['data_import_option', KNOWN_IMPORT_OPTIONS],
  ]
  for (const [name, allowed] of /** @type {[string, string[]][]} */ (checks)) {
    const value = params.get(name)
    if (value !== null && !allowed.includes(value))
      return `Invalid value '${value}' for ${name}; expected ${allowed.join(' or ')}`
  }
  /** @type {import('./createListStore.mjs').LoadOptions} */
  const options = {}
  const deduplication = params.get('deduplication')
  const dataImportOption = params.get('data_import_option')
  const createSegment = params.get('create_segment_api_name')
  if (deduplication) options.deduplication = deduplication
  if (dataImportOption) options.dataImportOption = dataImportOption
  if (createSegment) options.createSegment = createSegment
  return { keyFields, fields, headerRow, options }
}

/**
 * A call that stored nothing, answered with `resultCode`: every row counted as failed, none listed.
 * @param {string} resultCode @param {unknown[]} rows
 */
const storedNothing = (resultCode, rows) => ({
  result_code: resultCode,
  errors: null,
  number_of_inserted_records: 0,
  number_of_updated_records: 0,
  number_of_failed_records: rows.length,
  number_of_duplicate_records: 0,
  number_of_records_not_found: 0,
  number_of_deleted_records: 0,
  invalid_records: [],
})

/** @param {unknown} chaos */
function checkChaos(chaos) {
  const { seed, rates } = /** @type {Partial<Chaos>} */ (chaos ?? {})
  if (typeof seed !== 'number' || !rates || typeof rates !== 'object')
    throw new TypeError(`fault chaos must be { seed, rates }; got ${JSON.stringify(chaos)}`)
  for (const [kind, rate] of Object.entries(rates)) {
    if (!CHAOS_KINDS.includes(kind) || typeof rate !== 'number' || rate < 0)
      throw new TypeError(`chaos rate ${kind} must be a probability of ${CHAOS_KINDS}`)
  }
}

/**
 * A small seeded generator (mulberry32): the same seed draws the same numbers in [0, 1).
 * @param {number} seed
 */
export function seededRandom(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/**
 * The `X-ApiKey` value `given` (key:secret), its key and its secret, each written in `encoding`;
 * base64 forms at the three byte offsets a longer text could put them at.
 * @param {string} given @param {string} encoding
 */
function echoes(given, encoding) {
  const parts = [given, given.split(':')[0] ?? '', given.split(':').slice(1).join(':')]
  if (encoding === 'raw') return parts
  if (encoding === 'uri') return parts.map(encodeURIComponent)
  if (encoding === 'hex') return parts.map((part) => Buffer.from(part).toString('hex'))
  return parts.flatMap((part) =>
    ['', 'x', 'xy'].map((lead) =>
      Buffer.from(`${lead}${part}`).toString(/** @type {BufferEncoding} */ (encoding)),
    ),
  )
}

/** @param {string} segment */
const decode = (segment) => {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** @param {string | null} value */
const split = (value) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

/** @param {{ limit: number, remaining: number, resetSeconds: number }} window */
const rateHeaders = (window) => ({
  'X-RateLimit-Limit': String(window.limit),
  'X-RateLimit-Remaining': String(window.remaining),
  'X-RateLimit-Reset': String(window.resetSeconds),
})

/** @param {number} status @param {unknown} body @param {Record<string, string>} [headers] */
const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
  })

/** SMC's 401, 404 and 429 may answer a plain string. @param {number} status @param {string} body @param {Record<string, string>} [headers] */
const text = (status, body, headers = {}) =>
  new Response(body, {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers },
  })

/** SMC's error body. @param {number} status @param {string} resultCode @param {string} code @param {string} message @param {Record<string, string>} headers */
const failed = (status, resultCode, code, message, headers) =>
  json(
    status,
    { result_code: resultCode, message, errors: [{ error_code: code, description: message }] },
    headers,
  )

/** @param {number} ms @param {AbortSignal} signal */
const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve(undefined)
    })
  })

/**
 * Adapts a fetch handler to node:http, aborting the request when the client goes away and
 * destroying the socket on {@link SimulatedDropError}.
 * @param {(request: Request) => Promise<Response>} handler
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void}
 */
function createNodeListener(handler) {
  return (req, res) => {
    const aborted = new AbortController()
    res.on('close', () => aborted.abort())
    const chunks = /** @type {Buffer[]} */ ([])
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', async () => {
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
      const headers = /** @type {[string, string][]} */ (
        Object.entries(req.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(', ') : (value ?? ''),
        ])
      )
      try {
        const response = await handler(
          new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, {
            method: req.method,
            headers,
            body: hasBody ? Buffer.concat(chunks) : undefined,
            signal: aborted.signal,
          }),
        )
        res.writeHead(response.status, Object.fromEntries(response.headers))
        res.end(Buffer.from(await response.arrayBuffer()))
      } catch {
        req.socket.destroy()
      }
    })
  }
}

/** @param {import('node:http').Server} server */
function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve(undefined))
    server.closeAllConnections()
  })
}
