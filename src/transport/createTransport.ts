import { log } from '../log/log.js'
import { retryDelay } from './backoff.js'
import { DeliveryError } from './DeliveryError.js'
import type { Target, Transport, TransportOptions, TransportStats } from './types.js'

/**
 * Bytes of request bodies kept in keepalive flight at once. Chrome refuses keepalive requests
 * (and beacons) past 64 KiB in flight per page, a quota shared with the site's own beacons:
 * leave them a little.
 */
const KEEPALIVE_BUDGET = 60_000
/**
 * Milliseconds a change waits before it is written, at least; and at least 10 times what the last
 * write took. A burst of changes becomes one write, and however long the queue, writing takes at
 * most about a tenth of the main thread.
 */
const PERSIST_DELAY = 100
/**
 * Milliseconds a new row is held in memory only while one request can carry everything held: the
 * default `flushInterval` and a second for the answer. A row delivered within it is never written,
 * so a page view that is answered costs no storage write; a row held longer (a slow answer, a long
 * `flushInterval`) is written then. More rows held than a request carries (a burst), or a lane
 * that cannot send (offline, backing off, failed), and rows are written after
 * {@link PERSIST_DELAY} as ever. Hiding or leaving the page writes at once, so only a crash can
 * lose this window (docs/design.md#deferred-writes).
 */
const WRITE_AFTER = 2000
/** Requests one target may have out at once while the queue is past half its bounds. */
const BURST_REQUESTS = 4
/**
 * Bytes of rows a storage chunk takes before the next rows start a new one (see `persist`): a
 * write costs at most about this much besides the rows that are new, and each chunk adds its key
 * and target, ~200 bytes (under 1 % of the queue).
 */
export const CHUNK_BYTES = 32_768

// Internal records have one-letter properties: property names survive minification.

/** A queued row. */
interface Entry {
  /** The id it was pushed with. */
  readonly id_: string
  /** The row as ASCII JSON (see {@link asciiJson}), computed once: request bodies and storage are
   * joins of these, and its length is its size in bytes. */
  readonly json_: string
  /** Tries that failed retryably. */
  tries_: number
  /** Push order across targets, to find the oldest row past a bound (see `trim`). */
  readonly order_: number
  /** The storage chunk it is written in (see `persist`); 0: held in memory only. */
  chunk_: number
}

/** The rows of one target and its delivery state; targets never wait for one another. */
interface Lane {
  /** The target. */
  readonly target_: Target
  /** Its URL. */
  readonly url_: string
  /** Rows waiting, oldest first. */
  waiting_: Entry[]
  /**
   * Where `trim` looks for the lane's oldest stored row: the rows waiting before it are held in
   * memory only (or were requeued in front of it).
   */
  unstored_: number
  /** Requests awaiting an answer; a normal send waits for none to be out. */
  awaiting_: number
  /** Retryable failures in a row; a failing lane sends nothing at page leave. */
  failures_: number
  /** No request before this time (backoff, or the server's rate-limit reset). */
  notBefore_: number
  /** Rows pushed out past the memory bounds in this task, reported together: one error per burst. */
  readonly overflowed_: Entry[]
  /** The timer that will pump it. */
  timer_?: ReturnType<typeof setTimeout> | undefined
  /** The storage chunk its new rows join, and the bytes of rows (as stored) it was given so far. */
  chunk_: number
  chunkBytes_: number
}

/** A request awaiting its answer. */
interface Sending {
  /** Its lane. */
  readonly lane_: Lane
  /** Its rows. */
  readonly rows_: Entry[]
  /** Body bytes counted against the keepalive budget; 0 for a plain request. */
  readonly keepaliveBytes_: number
  /**
   * Handed to the browser at page leave: no longer persisted, so the next page does not send it
   * again. Only keepalive requests survive the page, and only those of a lane that is not failing
   * are trusted to.
   */
  handedOver_: boolean
}

const noop = (): void => undefined
const json = JSON.stringify
const offline = (): boolean => navigator.onLine === false
/**
 * JSON of a row or an id with every non-ASCII character escaped (`"é"` → `"\u00e9"`, the same
 * JSON): its length is its size in bytes, and storage holds it as one-byte text
 * (docs/design.md#ascii-rows).
 */
const asciiJson = (value: unknown): string =>
  json(value).replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
/** Bytes of a row as stored: its JSON, its id, and `[tries,"…",…],` around them. */
const stored = (e: Entry): number => e.json_.length + e.id_.length + 8
// An array in a template literal reads as its items joined with commas: JSON arrays below.
const body = (entries: Entry[]): string => `[${entries.map((e) => e.json_)}]`

/**
 * Creates the transport: rows queued per target, coalesced into requests of up to `batchSize`
 * rows, persisted per tab, retried, delivered at page leave with keepalive fetch (or beacons),
 * held while offline, and adopted from tabs that died with rows queued.
 *
 * Tabs. Every tab persists its queue under a key of its own (`{storageKey}/{random id}`, taken
 * at its first write, in chunks `{key}#{n}`) and sends only what it holds in memory, so two live
 * tabs never send the same row; what a dead tab left is adopted by exactly one other tab (or the
 * next page): it reads the chunks, deletes them, and queues the rows as its own. A key per tab
 * rather than one shared queue because localStorage has no compare-and-set: a shared queue would
 * need a locked read-modify-write of the whole queue on every write, which the cheap, coalesced
 * writes must avoid.
 *
 * Liveness comes from the Web Locks API: a tab holds the lock named after its key while it lives,
 * and the browser releases it when the tab closes, crashes or is discarded. Other tabs queue a
 * request for that lock; it is granted the moment the owner is gone, and to one of them only, so
 * adoption is immediate and exclusive, with no polling and no guessing.
 *
 * Without Web Locks (browsers before 2022, and any page outside a secure context) no tab can
 * tell a dead tab's key from a live one's without a compare-and-set, so such a tab keeps its
 * queue in memory only: it sends its own rows (at page leave too) and never touches another's,
 * so nothing is sent twice. It writes nothing either: no page of such a browser could ever adopt
 * the rows, they would only fill the site's storage quota. Queues other pages left wait for a
 * page with Web Locks.
 */
export function createTransport(options: TransportOptions): Transport {
  const { baseUrl, headers, batchSize, flushInterval, maxAttempts, judge, onReport, debug } =
    options
  const lanes = new Map<string, Lane>()
  const inflight = new Set<Sending>()
  const locks = navigator.locks as LockManager | undefined
  const prefix = locks && options.storageKey
  // A beacon carries a text/plain body and no headers: only requests with no other headers
  // (proxy mode) can go as one.
  const beaconable = json(headers) === '{"Content-Type":"text/plain"}'
  // Rows held (waiting, or in a request not answered yet) and their bytes as stored; and of them,
  // those that storage holds (docs/design.md#transport, "Bounds").
  let rows = 0
  let bytes = 0
  let storedRows = 0
  let storedBytes = 0
  let seq = 0
  // Chunk numbers have 7 digits (up to 9 million chunks): as text they sort in the order started.
  let chunks = 1e6
  let keepalive = 0
  let writeMs = 0
  let warned = false
  let full = false
  let left = false
  let closed = false
  // This tab's key, taken at its first write (see `persist`).
  let key: string | undefined
  // Ends this tab's lock and its requests for the locks of others.
  let lease: AbortController | undefined
  let watched: Set<string>
  // Chunks under `key` as last written: chunk → the rows and tries written (see `persist`).
  let written: Map<number, string>
  let persistTimer: ReturnType<typeof setTimeout> | undefined
  let persistAt = Infinity
  const stats: TransportStats = {
    get queued() {
      return rows
    },
    get memoryOnly() {
      return rows - storedRows
    },
    sent: 0,
    requests: 0,
    splitRequests: 0,
    retried: 0,
    beaconed: 0,
    dropped: {},
  }

  /**
   * localStorage fails in many ways (quota exceeded; disabled storage, where even reading
   * `window.localStorage` throws): each costs durability only, the queue lives on in memory.
   */
  const store = <T>(use: (storage: Storage) => T): T | undefined => {
    try {
      return use(localStorage)
    } catch (error) {
      if (!warned) log('warn', 'queue kept in memory only:', error)
      warned = true
    }
  }

  const laneOf = (target: Target): Lane => {
    const path = `${target.path}?${target.query}`
    const name = `${target.method} ${path}`
    let lane = lanes.get(name)
    if (!lane)
      lanes.set(
        name,
        (lane = {
          target_: target,
          url_: baseUrl + path,
          waiting_: [],
          unstored_: 0,
          overflowed_: [],
          awaiting_: 0,
          failures_: 0,
          notBefore_: 0,
          chunk_: chunks++,
          chunkBytes_: 0,
        }),
      )
    return lane
  }

  const count = (entries: Entry[], sign: number): void => {
    for (const e of entries) {
      const size = sign * stored(e)
      rows += sign
      bytes += size
      if (e.chunk_) {
        storedRows += sign
        storedBytes += size
      }
    }
  }

  // A new row is stored (where anything is): storage keeps the newest rows (see `trim`).
  const enqueue = (lane: Lane, id: string, json: string, tries: number): void => {
    const entry: Entry = {
      id_: id,
      json_: json,
      tries_: tries,
      order_: seq++,
      chunk_: prefix ? lane.chunk_ : 0,
    }
    lane.waiting_.push(entry)
    count([entry], 1)
    // The chunk is full: the next rows start another.
    if ((lane.chunkBytes_ += stored(entry)) > CHUNK_BYTES) {
      lane.chunk_ = chunks++
      lane.chunkBytes_ = 0
    }
  }

  const requeue = (lane: Lane, entries: Entry[]): void => {
    lane.waiting_.unshift(...entries)
    count(entries, 1)
  }

  /**
   * Takes up to `batchSize` rows off the lane whose body fits in `budget` bytes, and at least
   * `least` rows: 1 for a row too big for any keepalive request, which goes as a plain one.
   */
  const take = (lane: Lane, budget: number, least: number): Entry[] => {
    let n = Math.min(batchSize, lane.waiting_.length)
    let size = 1
    for (let i = 0; i < n; i++) {
      if ((size += lane.waiting_[i]!.json_.length + 1) > budget) n = Math.max(i, least)
    }
    // The rows left may be stored ones: `trim` looks from the first again.
    lane.unstored_ = 0
    return lane.waiting_.splice(0, n)
  }

  const drop = (lane: Lane, entries: Entry[], why: string, text: string, status: number): void => {
    if (!entries.length) return
    stats.dropped[why] = (stats.dropped[why] ?? 0) + entries.length
    const reason = new DeliveryError(text, status, lane.target_)
    onReport({ type: 'dropped', ids: entries.map((e) => e.id_), reason })
  }

  const reportOverflow = (): void => {
    for (const lane of lanes.values())
      drop(lane, lane.overflowed_.splice(0), 'overflow', 'Queue full', 0)
  }

  /** The lane whose waiting row at `at(lane)` is the oldest; none if no lane has one. */
  const oldestAt = (at: (lane: Lane) => number): Lane | undefined => {
    let oldest: Lane | undefined
    for (const lane of lanes.values()) {
      if (
        (lane.waiting_[at(lane)]?.order_ ?? Infinity) <
        (oldest?.waiting_[at(oldest)]?.order_ ?? Infinity)
      )
        oldest = lane
    }
    return oldest
  }

  /**
   * Brings the queue within its bounds. Past the storage bounds the oldest stored rows are held in
   * memory only: storage keeps the newest, and the rows it gives up are the next to be sent. Past
   * the memory bounds the oldest rows are dropped. Rows in flight count but are never picked:
   * their answer frees them (docs/design.md#transport, "Bounds").
   */
  const trim = (): void => {
    let lane: Lane | undefined
    while (
      (rows > options.maxMemoryRows || bytes > options.maxMemoryBytes) &&
      (lane = oldestAt(() => 0))
    ) {
      if (!full) log('warn', 'queue full: oldest rows dropped')
      full = true
      if (!lane.overflowed_.length) queueMicrotask(reportOverflow)
      if (lane.unstored_) lane.unstored_--
      const entry = lane.waiting_.shift()!
      count([entry], -1)
      lane.overflowed_.push(entry)
    }
    while (
      (storedRows > options.maxQueueRows || storedBytes > options.maxQueueBytes) &&
      (lane = oldestAt((lane) => {
        while (lane.waiting_[lane.unstored_]?.chunk_ === 0) lane.unstored_++
        return lane.unstored_
      }))
    ) {
      const entry = lane.waiting_[lane.unstored_++]!
      count([entry], -1)
      entry.chunk_ = 0
      count([entry], 1)
    }
  }

  /**
   * Writes what changed in the queue since the last write. The queue is stored in chunks of one
   * target's rows, each under a key of its own (`{key}#{n}`): rows join their target's newest
   * chunk as they are queued until it holds {@link CHUNK_BYTES}, then start the next (see
   * `enqueue`), and a chunk is written again only when rows joined or left it or their tries
   * changed, removed once empty. So a write costs the rows that are new plus a chunk or two,
   * however long the queue (docs/design.md#chunked-storage).
   */
  const persist = (): void => {
    clearTimeout(persistTimer)
    persistTimer = undefined
    persistAt = Infinity
    if (!prefix || closed) return
    // chunk → [target, what its rows and their tries are now, its rows]
    const parts = new Map<number, [string, string, Entry[]]>()
    for (const [name, lane] of lanes) {
      for (const e of [...inflight]
        .flatMap((request) => (request.lane_ === lane && !request.handedOver_ ? request.rows_ : []))
        .concat(lane.waiting_)) {
        if (!e.chunk_) continue
        const part = parts.get(e.chunk_) ?? [name, '', []]
        parts.set(e.chunk_, part)
        part[1] += `${e.order_}.${e.tries_},`
        part[2].push(e)
      }
    }
    // Nothing to write, nothing written: no key, no lock.
    if (!parts.size && !written.size) return
    if (!key) {
      // Web Locks imply a secure context, which `randomUUID` needs too.
      key = `${prefix}/${crypto.randomUUID()}`
      watched.add(key)
      // Requested before its first write, which other tabs see: ours is first in line for it.
      const { signal } = lease!
      const held = (): Promise<unknown> => new Promise((done) => (signal.onabort = done))
      locks!.request(key, { signal }, held).catch(noop)
    }
    const start = performance.now()
    // Removals first: storage never holds more than the bounds, even within a write.
    for (const c of written.keys()) {
      if (parts.has(c)) continue
      written.delete(c)
      store((s) => s.removeItem(`${key}#${c}`))
    }
    for (const [c, [name, state, entries]] of parts) {
      if (written.get(c) === state) continue
      const cells = entries.map((e) => `[${e.tries_},${asciiJson(e.id_)},${e.json_}]`)
      // Remembered only once written: a write that failed is tried again by the next one.
      if (store((s) => s.setItem(`${key}#${c}`, `[[${json(name)},[${cells}]]]`) ?? 1)) {
        written.set(c, state)
      }
    }
    writeMs = performance.now() - start
  }

  /** Writes within `ms` (or 10 times what the last write took), unless a write is due sooner. */
  const persistWithin = (ms: number): void => {
    const at = performance.now() + Math.max(ms, writeMs * 10)
    if (at >= persistAt) return
    clearTimeout(persistTimer)
    persistAt = at
    persistTimer = setTimeout(persist, at - performance.now())
  }

  const arm = (lane: Lane, ms: number): void => {
    lane.timer_ ??= setTimeout(pump, ms, lane)
  }

  async function send(lane: Lane, entries: Entry[], leaving: boolean): Promise<void> {
    const { method } = lane.target_
    const text = body(entries)
    // ASCII: its length is its size in bytes.
    const k = text.length > KEEPALIVE_BUDGET - keepalive ? 0 : text.length
    const request: Sending = {
      lane_: lane,
      rows_: entries,
      keepaliveBytes_: k,
      handedOver_: leaving,
    }
    inflight.add(request)
    lane.awaiting_++
    keepalive += k
    stats.requests++
    let status = 0
    let hint: string | null = null
    let answer: string
    try {
      const response = await fetch(lane.url_, {
        method,
        headers,
        // A Blob is handed to the network as it is; a string body is copied and encoded again.
        body: new Blob([text]),
        keepalive: k > 0,
        credentials: 'omit',
      })
      answer = await response.text()
      // Only now: a body that fails to arrive is a network error whatever the status said.
      status = response.status
      hint = response.headers.get('X-RateLimit-Reset') ?? response.headers.get('Retry-After')
    } catch (error) {
      answer = String(error)
    }
    lane.awaiting_--
    keepalive -= k
    if (debug) log('info', method, lane.url_, entries.length, status, answer)
    // Forgotten meanwhile (see `forget`): storage owns these rows now. Or handed over and the page
    // left: the browser fails the page's fetch while it still delivers the request itself, so a
    // network error says nothing, and the rows must not come back to be sent again by the next page.
    if (!inflight.delete(request)) return
    // Settled here, or requeued (and counted again) below.
    count(entries, -1)
    if (left && request.handedOver_ && !status) return
    // What the answer says of these rows is `judge`'s to say: the transport only moves them.
    const {
      retry_: retry,
      refused_: refused,
      reason_: reason = '',
    } = judge(status, answer, entries.length)
    // Rows refused for good are not sent again, whatever becomes of the others.
    const invalid = refused ? entries.filter((_, i) => i in refused) : []
    const others = invalid.length ? entries.filter((_, i) => !(i in refused!)) : entries
    if (retry) {
      drop(lane, invalid, 'invalid', reason, status)
      // A request that failed because the browser is offline costs no attempt: `online` resumes.
      const held = !status && offline()
      if (!held) lane.notBefore_ = Date.now() + retryDelay(++lane.failures_, hint)
      const kept = others.filter((e) => held || ++e.tries_ < maxAttempts)
      stats.retried += kept.length
      requeue(lane, kept)
      const spent = others.filter((e) => !kept.includes(e))
      const why = `Gave up after ${maxAttempts} attempts${status ? '' : `: ${answer}`}`
      drop(lane, spent, 'attempts', why, status)
    } else if (refused) {
      lane.failures_ = 0
      stats.sent += others.length
      onReport({ type: 'sent', ids: others.map((e) => e.id_) })
      drop(lane, invalid, 'invalid', reason, status)
    } else if (entries[1] && (status === 400 || status === 413 || status === 422)) {
      // Refused whole, most likely for one bad row (or its size): the halves go again, down to
      // single rows, so only rows refused on their own are dropped, each with its own answer.
      count(entries, 1)
      stats.splitRequests += 2
      void send(lane, entries.splice(0, entries.length >> 1), false)
      void send(lane, entries, false)
    } else drop(lane, entries, 'rejected', reason, status)
    // An answer changes storage only once nothing is held: until then the next write or page leave
    // writes the queue anyway, and a write per answer would rewrite a long queue over and over in
    // a burst. A crash meanwhile costs rows sent again (upserts by EVENT_ID), never rows lost.
    // Nothing held: nothing to write either unless something was written (`persist` then does
    // nothing but end the wait for a write).
    if (!rows) {
      if (written?.size) persistWithin(PERSIST_DELAY)
      else persist()
    }
    void pump(lane)
  }

  /** Sends the lane's next batch if nothing holds it back. */
  function pump(lane: Lane): Promise<void> | undefined {
    // Whatever holds it back now sends it again: an answer, `online`, a push.
    clearTimeout(lane.timer_)
    lane.timer_ = undefined
    // One request out per lane: each fits the keepalive budget, so at page leave every request
    // in flight is left to the browser and nothing is sent twice by the next page. Past half the
    // storage bounds a healthy lane may have more out: a row a next page might send again
    // (upserted by its EVENT_ID) beats a row held in memory only, which a dying page loses.
    const pressed = rows * 2 > options.maxQueueRows || bytes * 2 > options.maxQueueBytes
    if (closed || lane.awaiting_ >= (pressed && !lane.failures_ ? BURST_REQUESTS : 1)) return
    if (!lane.waiting_.length) return
    const wait = offline() ? Infinity : lane.notBefore_ - Date.now()
    // Bodies that fit the keepalive budget go as keepalive requests, which survive the page:
    // at page leave they can be left to the browser instead of being sent again by the next page.
    if (wait <= 0) return send(lane, take(lane, KEEPALIVE_BUDGET, 1), false)
    // Held back: its rows will not be delivered soon, they are written now.
    persistWithin(PERSIST_DELAY)
    if (wait < Infinity) arm(lane, wait)
  }

  const flush = async (): Promise<void> => {
    await Promise.all([...lanes.values()].map(pump))
  }

  /**
   * Hands `entries` to `navigator.sendBeacon` (a string body goes as `text/plain`). The browser
   * refuses a beacon it has no quota for by returning `false`; the entries are then halved and
   * offered again, down to single rows. Returns the entries no beacon took.
   */
  const beacon = (url: string, entries: Entry[]): Entry[] =>
    navigator.sendBeacon(url, body(entries))
      ? []
      : entries.length < 2
        ? entries
        : [...beacon(url, entries.splice(0, entries.length >> 1)), ...beacon(url, entries)]

  /**
   * The page is hidden (`final` false) or being left (`final` true). Keepalive requests in flight
   * already and what still fits under the keepalive budget are left to the browser, which
   * delivers them after the page is gone; the rest is written to storage now for another tab or
   * the next page. A lane that is failing (or the browser offline) sends nothing: those rows
   * would most likely fail again where no page could retry them. When the page is left, the rows
   * held in memory only that are not handed over are dropped as `lost`.
   */
  function leave(final: boolean): void {
    left ||= final
    for (const request of inflight) {
      request.handedOver_ ||= request.keepaliveBytes_ > 0 && !request.lane_.failures_
      // The browser cancels the page's other requests as it goes: their rows wait again, to be
      // handed over, stored, or reported lost below.
      if (final && !request.handedOver_) {
        inflight.delete(request)
        request.lane_.waiting_.unshift(...request.rows_)
      }
    }
    for (const lane of lanes.values()) {
      if (lane.failures_ || offline()) continue
      if ('keepalive' in Request.prototype) {
        let entries: Entry[]
        while ((entries = take(lane, KEEPALIVE_BUDGET - keepalive, 0)).length) {
          void send(lane, entries, true)
        }
      } else if (beaconable && lane.target_.method === 'POST') {
        const refused: Entry[] = []
        const offered = lane.waiting_.length
        count(lane.waiting_, -1)
        while (lane.waiting_.length)
          refused.push(...beacon(lane.url_, take(lane, KEEPALIVE_BUDGET, 1)))
        stats.beaconed += offered - refused.length
        requeue(lane, refused)
      }
    }
    // What is held in memory only and was not handed over goes with the page: reported, never
    // lost silently.
    if (final) {
      for (const lane of lanes.values()) {
        const lost = lane.waiting_.filter((e) => !e.chunk_)
        lane.waiting_ = lane.waiting_.filter((e) => e.chunk_)
        lane.unstored_ = 0
        count(lost, -1)
        drop(lane, lost, 'lost', 'Lost with the page', 0)
      }
    }
    persist()
    // Web Locks keep a page out of the back/forward cache: the lease ends here, not at unload.
    if (final) lease?.abort()
  }

  /**
   * Storage owns the queue now (written, and the lease ended): the memory copy is forgotten,
   * answers to its requests included, lest another tab and this one both send it.
   */
  const forget = (): void => {
    for (const request of inflight) {
      if (!request.handedOver_ && inflight.delete(request)) count(request.rows_, -1)
    }
    for (const lane of lanes.values()) {
      count(lane.waiting_, -1)
      lane.waiting_.length = lane.unstored_ = 0
    }
  }

  /**
   * Merges the queue a gone tab (or the previous page) left under `from`: its chunks in the order
   * they were started, and a queue kept under the key itself as earlier versions wrote it. Storage
   * this code did not write (another version, corruption) is read as far as it makes sense: in
   * each key, the first thing out of shape ends the reading.
   */
  const adopt = (from: string): void => {
    for (const name of (store((s) => Object.keys(s)) ?? [])
      .filter((name) => name === from || name.startsWith(`${from}#`))
      .sort()) {
      const text = store((s) => s.getItem(name))
      store((s) => s.removeItem(name))
      try {
        for (const part of JSON.parse(text as string) as [
          string,
          [unknown, unknown, unknown[]][],
        ][]) {
          const [, method, path, query] = /^(POST|DELETE) ([^?]*)\?(.*)$/.exec(part[0])!
          const lane = laneOf({ method, path, query } as Target)
          arm(lane, flushInterval)
          for (const [tries, id, row] of part[1]) {
            enqueue(lane, String(id), asciiJson(row.map(String)), (tries as number) | 0)
          }
        }
      } catch {
        // Out of shape: see above.
      }
    }
    trim()
    persist()
  }

  /**
   * Queues a request for the lock of every key of this storage key not watched yet, and listens
   * for the keys other tabs write from now on: a tab announces itself by writing its key.
   */
  const watch = (): void => {
    const signal = lease?.signal
    if (!signal) return
    // Ends with the lease, as the requests do: at close, and when the page is left.
    addEventListener('storage', watch, { signal })
    for (const name of store((s) => Object.keys(s)) ?? []) {
      // A chunk's key names its tab's: `{tab}#{n}`.
      const tab = name.replace(/#\d+$/, '')
      if (tab.startsWith(`${prefix}/`) && !watched.has(tab)) {
        watched.add(tab)
        locks!.request(tab, { signal }, () => adopt(tab)).catch(noop)
      }
    }
  }

  /**
   * Starts as a tab with nothing written (its key and lock wait for its first write), and watches
   * the keys of the other tabs.
   */
  const start = (): void => {
    if (!prefix) return
    lease = new AbortController()
    key = undefined
    watched = new Set()
    written = new Map()
    // In a task of its own: a `storage` listener makes Chrome open the origin's storage and wait
    // for it, which the call that made the transport should not (docs/performance-page-view.md).
    setTimeout(watch)
  }

  // Never `unload`/`beforeunload`: they are unreliable on mobile and keep pages out of the
  // back/forward cache. Captured at the window, which also sees the document's
  // `visibilitychange` (the last event a mobile browser fires before killing a tab).
  const listeners: Record<string, (event: Event) => void> = {
    online: flush,
    pagehide: () => leave(true),
    visibilitychange: () => document.visibilityState === 'hidden' && leave(false),
    // Restored from the back/forward cache: another tab may have adopted what this page left in
    // storage meanwhile, so it starts over as a new tab, adopting its own rows if still there.
    // Without a lease there is nothing to adopt: memory still holds every row.
    pageshow: (event) => {
      if (!(event as PageTransitionEvent).persisted) return
      left = false
      if (prefix) forget()
      start()
    },
  }
  const listen = (on: boolean): void => {
    for (const [type, listener] of Object.entries(listeners)) {
      ;(on ? addEventListener : removeEventListener)(type, listener, true)
    }
  }
  listen(true)
  start()

  return {
    stats,
    flush,
    push(target, row, id) {
      if (closed) return
      const lane = laneOf(target)
      enqueue(lane, id, asciiJson(row), 0)
      trim()
      // Pushed during or after pagehide: no timer will run again, send, store or report it now.
      if (left) leave(true)
      else if (lane.waiting_.length < batchSize) arm(lane, flushInterval)
      else void pump(lane)
      persistWithin(rows > batchSize ? PERSIST_DELAY : WRITE_AFTER)
    },
    close() {
      persist()
      closed = true
      key = undefined
      listen(false)
      lease?.abort()
      forget()
    },
  }
}
