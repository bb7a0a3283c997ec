import { retryDelay } from './backoff.js'
import { createStorage } from './createStorage.js'
import { createTabLease, type TabLease } from './createTabLease.js'
import { DeliveryError } from './DeliveryError.js'
import { onPageLeave } from './onPageLeave.js'
import { parseResult } from './parseResult.js'
import { sendBeacons } from './sendBeacons.js'
import type { HttpMethod, Target, Transport, TransportOptions, TransportStats } from './types.js'

/**
 * Bytes of request bodies kept in keepalive flight at once. Chrome refuses keepalive requests
 * (and beacons) past 64 KiB in flight per page, a quota shared with the site's own beacons:
 * leave them a little.
 */
const KEEPALIVE_BUDGET = 60_000
/**
 * Milliseconds a change waits before it is written, at least; and at least 10 times what the last
 * write took. A burst of pushes becomes one write, and however long the queue (a write is the
 * whole queue), writing takes at most about a tenth of the main thread. Leaving the page writes
 * at once, so only a crash can lose this window.
 */
const PERSIST_DELAY = 100

/** A queued row. */
interface Entry {
  /** The id it was pushed with. */
  readonly id: string
  /** The row as JSON, computed once: request bodies and storage are joins of these. */
  readonly json: string
  /** Tries that failed retryably. */
  tries: number
  /** Push order across targets, to find the oldest row when the queue is full. */
  readonly seq: number
}

/** The rows of one target and its delivery state; targets never wait for one another. */
interface Lane {
  readonly target: Target
  readonly key: string
  queue: Entry[]
  /** Requests of this lane awaiting an answer; a normal flush waits for none to be out. */
  busy: number
  /** Retryable failures in a row; a failing lane sends nothing at page leave. */
  failures: number
  /** No request before this time (backoff, or the server's rate-limit reset). */
  notBefore: number
  timer: ReturnType<typeof setTimeout> | undefined
}

interface Sending {
  readonly lane: Lane
  readonly entries: Entry[]
  /** Body bytes counted against the keepalive budget; 0 for a plain request. */
  readonly keepalive: number
  /**
   * Left to the browser at page leave: no longer persisted, so the next page does not send it
   * again. Only keepalive requests survive the page, and only those of a lane that is not
   * failing are trusted to.
   */
  handed: boolean
  /** The generation it was sent in; see `back`. */
  readonly gen: number
}

// Rows are mostly ASCII: skip the encoder for them.
const utf8 = (text: string): number =>
  /[^\0-\x7f]/.test(text) ? new TextEncoder().encode(text).length : text.length
const body = (entries: Entry[]): string => `[${entries.map((e) => e.json).join()}]`

/**
 * Creates the transport: rows queued per target, coalesced into requests of up to `batchSize`
 * rows, persisted per tab, retried, delivered at page leave with keepalive fetch (or beacons),
 * held while offline, and adopted from tabs that died with rows queued.
 */
export function createTransport(options: TransportOptions): Transport {
  const { baseUrl, headers, batchSize, maxAttempts, storageKey, onReport, debug } = options
  const lanes = new Map<string, Lane>()
  const inflight = new Set<Sending>()
  const storage = storageKey === undefined ? undefined : createStorage()
  // Beacons carry no headers of their own: only a CORS-simple text/plain POST (proxy mode) can
  // go as one.
  const beaconable = Object.entries(headers).every(
    ([name, value]) => /^content-type$/i.test(name) && value.startsWith('text/plain'),
  )
  const stats: TransportStats = {
    get queued() {
      let rows = 0
      for (const lane of lanes.values()) rows += lane.queue.length
      for (const request of inflight) rows += request.entries.length
      return rows
    },
    sent: 0,
    requests: 0,
    retried: 0,
    beaconed: 0,
    dropped: {},
  }
  let lease: TabLease | undefined
  let queueKey: string | undefined
  let rows = 0
  let chars = 0
  let seq = 0
  let gen = 0
  let keepaliveBytes = 0
  let dirty = false
  let warnedFull = false
  let left = false
  let closed = false
  let persistTimer: ReturnType<typeof setTimeout> | undefined
  // Rows pushed out of the full queue in this task, reported together: one error per burst.
  const overflow = new Map<Lane, Entry[]>()
  let writeMs = 0

  const laneOf = (target: Target): Lane => {
    const key = `${target.method} ${target.path}?${target.query}`
    let lane = lanes.get(key)
    if (!lane) {
      lane = { target, key, queue: [], busy: 0, failures: 0, notBefore: 0, timer: undefined }
      lanes.set(key, lane)
    }
    return lane
  }

  const count = (entries: Entry[], sign: 1 | -1): void => {
    for (const e of entries) {
      rows += sign
      chars += sign * e.json.length
    }
  }

  const drop = (lane: Lane, entries: Entry[], why: string, reason: DeliveryError): void => {
    if (!entries.length) return
    stats.dropped[why] = (stats.dropped[why] ?? 0) + entries.length
    onReport({ type: 'dropped', target: lane.target, ids: entries.map((e) => e.id), reason })
  }

  // The byte bound counts UTF-16 characters of row JSON, as localStorage's quota does.
  const trim = (): void => {
    while (rows > options.maxQueueRows || chars > options.maxQueueBytes) {
      let oldest: Lane | undefined
      for (const lane of lanes.values()) {
        if ((lane.queue[0]?.seq ?? Infinity) < (oldest?.queue[0]?.seq ?? Infinity)) oldest = lane
      }
      if (!oldest) return
      const entries = oldest.queue.splice(0, 1)
      count(entries, -1)
      if (!warnedFull) console.warn('[Selligent] queue full: dropping the oldest rows')
      warnedFull = true
      if (!overflow.size) queueMicrotask(reportOverflow)
      const dropped = overflow.get(oldest) ?? []
      overflow.set(oldest, dropped)
      dropped.push(...entries)
    }
  }

  function reportOverflow(): void {
    for (const [lane, entries] of overflow) {
      const reason = new DeliveryError('Queue full, oldest rows dropped', 0, lane.target)
      drop(lane, entries, 'overflow', reason)
    }
    overflow.clear()
  }

  const persist = (): void => {
    clearTimeout(persistTimer)
    persistTimer = undefined
    if (!storage || !queueKey || !dirty) return
    dirty = false
    const held = new Map<Lane, Entry[]>()
    for (const request of inflight) {
      if (request.handed || request.gen !== gen) continue
      held.set(request.lane, [...(held.get(request.lane) ?? []), ...request.entries])
    }
    const parts: string[] = []
    for (const lane of lanes.values()) {
      const entries = [...(held.get(lane) ?? []), ...lane.queue]
      const cells = entries.map((e) => `[${e.tries},${JSON.stringify(e.id)},${e.json}]`)
      if (cells.length) parts.push(`[${JSON.stringify(lane.key)},[${cells.join()}]]`)
    }
    const start = performance.now()
    if (parts.length) storage.write(queueKey, `[${parts.join()}]`)
    else storage.remove(queueKey)
    writeMs = performance.now() - start
  }

  const persistSoon = (): void => {
    dirty = true
    persistTimer ??= setTimeout(persist, Math.max(PERSIST_DELAY, writeMs * 10))
  }

  const arm = (lane: Lane, ms: number): void => {
    lane.timer ??= setTimeout(() => {
      lane.timer = undefined
      void pump(lane)
    }, ms)
  }

  /**
   * Takes up to `batchSize` rows off the lane whose body fits in `budget` bytes; at least one
   * row unless `strict`, for a row too big for any keepalive request.
   */
  const take = (lane: Lane, budget: number, strict: boolean): Entry[] => {
    let n = Math.min(batchSize, lane.queue.length)
    let size = 1
    for (let i = 0; i < n; i++) {
      if ((size += utf8(lane.queue[i]!.json) + 1) > budget) n = strict ? i : Math.max(i, 1)
    }
    const entries = lane.queue.splice(0, n)
    count(entries, -1)
    return entries
  }

  const requeue = (lane: Lane, entries: Entry[]): void => {
    lane.queue.unshift(...entries)
    count(entries, 1)
  }

  async function send(lane: Lane, entries: Entry[], leaving: boolean): Promise<void> {
    const { method, path, query } = lane.target
    const url = `${baseUrl}${path}?${query}`
    const text = body(entries)
    const size = utf8(text)
    const keepalive = size <= KEEPALIVE_BUDGET - keepaliveBytes ? size : 0
    const request: Sending = { lane, entries, keepalive, handed: leaving, gen }
    inflight.add(request)
    lane.busy++
    keepaliveBytes += keepalive
    stats.requests++
    let status: number
    let answer: string
    let hint: string | null = null
    try {
      const response = await fetch(url, {
        method,
        headers,
        body: text,
        keepalive: keepalive > 0,
        credentials: 'omit',
      })
      status = response.status
      hint = response.headers.get('X-RateLimit-Reset') ?? response.headers.get('Retry-After')
      answer = await response.text()
    } catch (error) {
      status = 0
      answer = String(error)
    }
    inflight.delete(request)
    lane.busy--
    keepaliveBytes -= keepalive
    if (debug) console.debug('[Selligent]', method, url, `${entries.length} rows`, status, answer)
    // Restored from the back/forward cache since: storage owns these rows now (see `back`).
    if (request.gen !== gen && !request.handed) return
    const result = parseResult(answer)
    if (status >= 200 && status < 300 && /^(Partially)?Succeeded$/.test(result.resultCode)) {
      lane.failures = 0
      const accepted = entries.filter((_, i) => !result.invalid.has(i))
      stats.sent += accepted.length
      onReport({ type: 'sent', target: lane.target, ids: accepted.map((e) => e.id) })
      const refused = entries.filter((_, i) => result.invalid.has(i))
      const why = `SMC refused ${refused.length} row(s): ${[...result.invalid.values()].join(', ')}`
      drop(lane, refused, 'invalid', new DeliveryError(why, status, lane.target))
    } else if (!status || status === 408 || status === 429 || status >= 500) {
      // A request that failed because the browser is offline costs no attempt: `online` resumes.
      const offline = !status && navigator.onLine === false
      const spent = offline ? [] : entries.filter((e) => ++e.tries >= maxAttempts)
      const kept = entries.filter((e) => !spent.includes(e))
      if (!offline) {
        lane.failures++
        lane.notBefore = Date.now() + retryDelay(lane.failures, hint)
      }
      stats.retried += kept.length
      requeue(lane, kept)
      const why = `Gave up after ${maxAttempts} attempts, last: ${status ? 'HTTP error' : answer}`
      drop(lane, spent, 'attempts', new DeliveryError(why, status, lane.target))
    } else {
      const why = `SMC refused the request: ${result.resultCode || answer.slice(0, 200)}`
      drop(lane, entries, 'rejected', new DeliveryError(why, status, lane.target))
    }
    persistSoon()
    void pump(lane)
  }

  /** Sends the lane's next batch if nothing holds it back. */
  function pump(lane: Lane): Promise<void> | undefined {
    if (closed || lane.busy || !lane.queue.length || navigator.onLine === false) return
    clearTimeout(lane.timer)
    lane.timer = undefined
    const wait = lane.notBefore - Date.now()
    // Bodies that fit the keepalive budget go as keepalive requests, which survive the page:
    // at page leave they can be left to the browser instead of being sent again by the next page.
    if (wait <= 0) return send(lane, take(lane, KEEPALIVE_BUDGET, false), false)
    arm(lane, wait)
  }

  const pumpAll = (): Promise<void> =>
    Promise.all([...lanes.values()].map(pump)).then(() => undefined)

  /**
   * The page is hidden (`final` false) or being left (`final` true). Keepalive requests in flight
   * already and what still fits under the keepalive budget are left to the browser, which
   * delivers them after the page is gone; the rest is written to storage now for another tab or
   * the next page. A lane that is failing (or the browser offline) sends nothing: those rows
   * would most likely fail again where no page could retry them.
   */
  function leave(final: boolean): void {
    if (closed) return
    left ||= final
    for (const request of inflight)
      request.handed ||= request.keepalive > 0 && !request.lane.failures
    if (navigator.onLine !== false) {
      for (const lane of lanes.values()) {
        if (lane.failures) continue
        if ('keepalive' in Request.prototype) {
          let entries: Entry[]
          while ((entries = take(lane, KEEPALIVE_BUDGET - keepaliveBytes, true)).length) {
            void send(lane, entries, true)
          }
        } else if (beaconable && lane.target.method === 'POST') {
          const url = `${baseUrl}${lane.target.path}?${lane.target.query}`
          const offered = lane.queue.splice(0)
          const refused: Entry[] = []
          for (let i = 0; i < offered.length; i += batchSize) {
            refused.push(...sendBeacons(url, offered.slice(i, i + batchSize), body))
          }
          lane.queue = refused
          count(offered, -1)
          count(refused, 1)
          stats.beaconed += offered.length - refused.length
        }
      }
    }
    dirty = true
    persist()
    if (final) lease?.release()
  }

  /** Merges the queue a gone tab (or the previous page) left under `key`. */
  const adopt = (key: string): void => {
    const data = storage?.read(key)
    storage?.remove(key)
    if (!Array.isArray(data)) return
    for (const part of data) {
      const target = Array.isArray(part) && /^(POST|DELETE) ([^?]*)\?(.*)$/.exec(String(part[0]))
      if (!target || !Array.isArray(part[1])) continue
      const lane = laneOf({ method: target[1] as HttpMethod, path: target[2]!, query: target[3]! })
      for (const cell of part[1] as unknown[]) {
        if (!Array.isArray(cell) || typeof cell[1] !== 'string' || !Array.isArray(cell[2])) continue
        const entry = {
          id: cell[1],
          json: JSON.stringify(cell[2].map(String)),
          tries: Number(cell[0]) || 0,
          seq: seq++,
        }
        lane.queue.push(entry)
        count([entry], 1)
      }
      arm(lane, options.flushInterval)
    }
    trim()
    dirty = true
    persist()
  }

  const start = (): void => {
    if (!storage || storageKey === undefined) return
    lease = createTabLease(storageKey, storage, adopt)
    queueKey = lease.key
  }

  /**
   * Restored from the back/forward cache. Another tab may have adopted what this page left in
   * storage meanwhile, so the memory copy is forgotten and the page starts over as a new tab,
   * adopting its own leftovers if they are still there.
   */
  const back = (): void => {
    if (closed || !left) return
    left = false
    gen++
    for (const lane of lanes.values()) {
      clearTimeout(lane.timer)
      lane.timer = undefined
      count(lane.queue.splice(0), -1)
    }
    start()
  }

  const stopListening = onPageLeave(leave, back)
  const online = (): void => void pumpAll()
  addEventListener('online', online)
  start()

  return {
    stats,
    flush: pumpAll,
    push(target, row, id) {
      if (closed) return
      const lane = laneOf(target)
      const entry = { id, json: JSON.stringify(row), tries: 0, seq: seq++ }
      lane.queue.push(entry)
      count([entry], 1)
      trim()
      // Pushed during or after pagehide: no timer will run again, send or store it now.
      if (left) leave(false)
      else if (lane.queue.length >= batchSize) void pump(lane)
      else arm(lane, options.flushInterval)
      persistSoon()
    },
    close() {
      if (closed) return
      dirty = true
      persist()
      closed = true
      stopListening()
      removeEventListener('online', online)
      for (const lane of lanes.values()) clearTimeout(lane.timer)
      lease?.release()
    },
  }
}
