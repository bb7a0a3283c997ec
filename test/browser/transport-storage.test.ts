import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { CHUNK_BYTES } from '../../src/transport/tunables.js'
import { namespace, recorded, script } from './helpers.js'
import {
  callsOn,
  clearStorage,
  expectedIds,
  locksOf,
  sleep,
  storageKeys,
  storedIds,
  waitFor,
} from '../fixtures/frames.js'
import { LOG_PREFIX } from '../../src/log/log.js'
import { chunkKey, FIRST_CHUNK, type StoredChunk } from '../../src/transport/storedFormat.js'
import { crashedTab, leaveCrashedQueue, storedChunk, storedRows } from '../fixtures/storedQueue.js'
import { closeTransports, persistingTransportFor } from '../fixtures/transports.js'
import { EVENTS, rowOf } from '../fixtures/wire.js'

const errors: unknown[] = []
const onError = (e: ErrorEvent | PromiseRejectionEvent): number =>
  errors.push('reason' in e ? e.reason : e.error)

/** A persisting transport; its storage keys start with `selligent-test:{ns}`. */
const transportFor = persistingTransportFor

/** The chunks persisted under `selligent-test:{ns}/…`, decoded. */
const persisted = (ns: string): unknown[] => storageKeys(ns).map(storedChunk)

/**
 * Milliseconds the server holds its answer when a test needs the rows written while their request
 * is out: past the transport's 2 s for a request to be answered before its rows are written.
 */
const UNANSWERED_MS = 2500

/** The ids of every row persisted for `ns`, sorted. */
const persistedIds = (ns: string): string[] =>
  storedRows(storageKeys(ns))
    .map(([, id]) => id)
    .sort()

describe('transport: persisted queue', function () {
  // Some tests wait up to 8 s (waitFor): WebKit writes and reads a queue of hundreds of KB
  // slower than Chromium, past mocha's default 2 s.
  this.timeout(8000)
  beforeEach(() => {
    errors.length = 0
    addEventListener('error', onError)
    addEventListener('unhandledrejection', onError)
  })
  afterEach(() => {
    closeTransports()
    sinon.restore()
    removeEventListener('error', onError)
    removeEventListener('unhandledrejection', onError)
    clearStorage('selligent-test:')
  })

  it('keeps rows as ASCII JSON on the wire and in storage, decoding to the same text', async () => {
    const ns = namespace()
    await script(ns, [{ status: 200, delayMs: UNANSWERED_MS }])
    const { transport } = transportFor(ns, { flushInterval: 0 })
    const row = [`${ns}-0`, 'track', 'Café — 東京 😀 \u2028']
    transport.push(EVENTS, row, `${ns}-0`)
    await waitFor(() => persisted(ns).length > 0)
    expect(localStorage.getItem(storageKeys(ns)[0] as string)).to.match(/^[\0-\x7f]*$/)
    await transport.flush()
    await waitFor(async () => (await recorded(ns)).length > 0)
    const [request] = await recorded(ns)
    expect(request?.text).to.match(/^[\0-\x7f]*$/)
    expect(request?.body).to.deep.equal([row])
  })
  it('writes queued rows under a key of its own: target, tries, id and row', async () => {
    const ns = namespace()
    const { push } = transportFor(ns, { flushInterval: 60_000 })
    push(2)
    await waitFor(() => persisted(ns).length > 0)
    expect(storedRows(storageKeys(ns))).to.deep.equal([
      [0, `${ns}-0`, rowOf(ns, 0)],
      [0, `${ns}-1`, rowOf(ns, 1)],
    ])
    expect(persisted(ns).map((chunk) => (chunk as StoredChunk).target_)).to.deep.equal([EVENTS])
  })

  it('writes nothing and takes no lock when one request delivers every row in time', async () => {
    const ns = namespace()
    const setItem = sinon.spy(Storage.prototype, 'setItem')
    const removeItem = sinon.spy(Storage.prototype, 'removeItem')
    // A page view: a page, an identify and 8 tracks, answered at once.
    const { transport, push } = transportFor(ns)
    push(10)
    await waitFor(() => transport.stats.sent === 10)
    // Past when the first write was due (100 ms after the pushes) and the removal after it.
    await sleep(300)
    expect(callsOn(setItem, ns)).to.have.length(0)
    expect(callsOn(removeItem, ns)).to.have.length(0)
    expect(await locksOf(ns)).to.deep.equal([])
  })

  it('writes the rows of a request not answered within 2 s, and removes them once answered', async () => {
    const ns = namespace()
    await script(ns, [{ status: 200, delayMs: 3500 }])
    const { transport, push } = transportFor(ns)
    push(3)
    await sleep(1500)
    expect(persisted(ns)).to.deep.equal([])
    await waitFor(() => persistedIds(ns).length > 0, 1500)
    expect(persistedIds(ns)).to.deep.equal(expectedIds(ns, 3))
    // Under a key held by this tab's lock, so no other tab adopts rows it still sends.
    expect((await locksOf(ns, false)).map((lock) => `${lock.name}#`)).to.include(
      storageKeys(ns)[0]?.replace(/#\d+$/, '#'),
    )
    await waitFor(() => transport.stats.sent === 3, 3000)
    await waitFor(() => persisted(ns).length === 0)
  })

  it('writes the rows it holds at once when the page is hidden, even before they are sent', async () => {
    const ns = namespace()
    // Offline: nothing can be handed to the browser, everything is written.
    sinon.stub(navigator, 'onLine').get(() => false)
    const { push } = transportFor(ns, { flushInterval: 60_000 })
    push(3)
    expect(persisted(ns)).to.deep.equal([])
    sinon.stub(document, 'visibilityState').get(() => 'hidden')
    document.dispatchEvent(new Event('visibilitychange'))
    expect(persistedIds(ns)).to.deep.equal(expectedIds(ns, 3))
  })

  it('writes within 100 ms when more rows are held than one request carries', async () => {
    const ns = namespace()
    await script(ns, [{ status: 200, delayMs: UNANSWERED_MS }])
    const { push } = transportFor(ns, { flushInterval: 60_000 })
    push(101)
    // Well before the 2 s a request has to be answered.
    await waitFor(() => persistedIds(ns).length === 101, 1500)
  })

  it('removes its chunks once every row is delivered', async () => {
    const ns = namespace()
    const { transport, push } = transportFor(ns)
    push(2)
    await waitFor(() => transport.stats.sent === 2)
    await sleep(150)
    expect(persisted(ns)).to.deep.equal([])
  })

  it('leaves storage alone while answers come in, and removes its chunk once drained', async () => {
    const ns = namespace()
    // Each answer arrives after the first write (≥ 100 ms after the pushes, later when the
    // engine's timers run late, as WebKit's under load do): answer by answer, the queue would be
    // rewritten 4 times.
    await script(ns, [{ status: 200, delayMs: 300 }])
    const setItem = sinon.spy(Storage.prototype, 'setItem')
    const removeItem = sinon.spy(Storage.prototype, 'removeItem')
    const { transport, push } = transportFor(ns)
    push(500)
    await waitFor(() => transport.stats.sent === 500, 8000)
    // The removal waits for the write delay like any write, later on a busy machine; then long
    // enough for a second write to show.
    await waitFor(() => callsOn(removeItem, ns).length > 0)
    await sleep(150)
    expect(callsOn(setItem, ns)).to.have.length(1)
    expect(callsOn(removeItem, ns)).to.have.length(1)
    expect(persisted(ns)).to.deep.equal([])
  })

  it('writes a burst of 10,000 pushes in one task once, a chunk per key', async () => {
    const ns = namespace()
    await script(ns, [{ status: 200, delayMs: 1000 }])
    const setItem = sinon.spy(Storage.prototype, 'setItem')
    const { push } = transportFor(ns, { maxQueueRows: 20_000, maxQueueBytes: 5_000_000 })
    push(10_000)
    expect(setItem.callCount).to.equal(0)
    await sleep(300)
    const writes = callsOn(setItem, ns).map(({ args }) => args as [string, string])
    // Each chunk written once, each at most CHUNK_BYTES of rows and one row more with its framing.
    expect(new Set(writes.map(([key]) => key)).size).to.equal(writes.length)
    const stored = writes.reduce((sum, [, value]) => sum + value.length, 0)
    expect(writes.length).to.be.within(
      Math.ceil(stored / (CHUNK_BYTES + 400)),
      Math.floor(stored / CHUNK_BYTES) + 1,
    )
    expect(JSON.stringify(persisted(ns))).to.contain(`${ns}-9999`)
  })

  it('writes only what changed: rows pushed later go into the newest chunk alone', async () => {
    const ns = namespace()
    // Offline nothing is sent: every row stays queued.
    sinon.stub(navigator, 'onLine').get(() => false)
    const { push } = transportFor(ns)
    push(1000, { from: 0, pad: 300 })
    await waitFor(() => storageKeys(ns).length > 9)
    const setItem = sinon.spy(Storage.prototype, 'setItem')
    const removeItem = sinon.spy(Storage.prototype, 'removeItem')
    push(3, { from: 1000, pad: 300 })
    // A write waits at least 10 times what the last took: the first one wrote the whole queue.
    await waitFor(() => persistedIds(ns).includes(`${ns}-1002`))
    // One chunk written, not the ~365 KB queue.
    expect(callsOn(setItem, ns)).to.have.length(1)
    expect(String(callsOn(setItem, ns)[0]?.args[1]).length).to.be.below(CHUNK_BYTES + 400)
    expect(callsOn(removeItem, ns)).to.have.length(0)
    expect(persistedIds(ns)).to.deep.equal(expectedIds(ns, 1003))
  })

  it('rewrites the chunks rows have left, and removes those left empty', async () => {
    const ns = namespace()
    // Offline nothing is sent: rows leave storage only past its bounds, oldest first.
    sinon.stub(navigator, 'onLine').get(() => false)
    sinon.stub(console, 'warn')
    const { push } = transportFor(ns, { maxQueueRows: 1000 })
    push(1000, { from: 0, pad: 300 })
    await waitFor(() => storageKeys(ns).length > 9)
    const chunkOf = (key: string): number => Number(/#(\d+)$/.exec(key)?.[1])
    const numbers = storageKeys(ns).map(chunkOf)
    const [first, last] = [Math.min(...numbers), Math.max(...numbers)]
    const setItem = sinon.spy(Storage.prototype, 'setItem')
    const removeItem = sinon.spy(Storage.prototype, 'removeItem')
    // 100 rows more push the oldest 100 out: all of the first chunk (~90 rows) and the start of
    // the second.
    push(100, { from: 1000, pad: 300 })
    await waitFor(() => persistedIds(ns).includes(`${ns}-1099`))
    const keysOf = (spy: sinon.SinonSpy): number[] =>
      callsOn(spy, ns).map(({ args }) => chunkOf(args[0]))
    expect(keysOf(removeItem)).to.deep.equal([first])
    // The second chunk rewritten, the new rows in the newest chunk and the next; none in between.
    const [second, ...newest] = keysOf(setItem)
    expect(second).to.equal(first + 1)
    expect(newest.length).to.be.above(0)
    expect(newest.every((chunk) => chunk >= last)).to.equal(true)
    expect(persistedIds(ns)).to.deep.equal(expectedIds(ns, 1000, 100))
  })

  it('still delivers from memory when a write throws QuotaExceededError, warning once', async () => {
    const ns = namespace()
    const quota = new DOMException('quota', 'QuotaExceededError')
    sinon.stub(Storage.prototype, 'setItem').throws(quota)
    const warn = sinon.stub(console, 'warn')
    // Answered late: the rows are written (and the write fails) while their request is out.
    await script(ns, [{ status: 200, delayMs: UNANSWERED_MS }])
    const { transport, push } = transportFor(ns, { flushInterval: 200 })
    push(3)
    await sleep(150)
    push(3, { from: 3 })
    await waitFor(() => transport.stats.sent === 6)
    expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, 6))
    expect(warn.callCount).to.equal(1)
    expect(warn.firstCall.args[0]).to.equal('[Selligent Marketing Cloud]')
    expect(warn.firstCall.args[2]).to.equal(quota)
    expect(errors).to.deep.equal([])
  })

  it('still delivers from memory when localStorage itself is unavailable', async () => {
    const ns = namespace()
    sinon.stub(window, 'localStorage').get(() => {
      throw new DOMException('denied', 'SecurityError')
    })
    const warn = sinon.stub(console, 'warn')
    const { transport, push } = transportFor(ns)
    push(3)
    await waitFor(() => transport.stats.sent === 3)
    expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, 3))
    expect(warn.callCount).to.equal(1)
    expect(errors).to.deep.equal([])
  })

  for (const [name, text] of [
    ['text that is not JSON', '[[{"POST /x'],
    ['JSON of the wrong shape', '{"a":[1,{"b":null}]}'],
    ['rows of the wrong shape', '[["POST /x?y",[null,[1],["a",5],{"0":1}]],[7]]'],
  ] as const) {
    it(`warns once of ${name} left in storage, and delivers the rows beside it and new rows`, async () => {
      const ns = namespace()
      const good = leaveCrashedQueue(`selligent-test:${ns}`, EVENTS, [rowOf(ns, 9)])
      const bad = [1, 2].map((i) => chunkKey(crashedTab(`selligent-test:${ns}`), FIRST_CHUNK + i))
      for (const key of bad) localStorage.setItem(key, text)
      const warn = sinon.stub(console, 'warn')
      const { transport, push } = transportFor(ns)
      await sleep(50)
      push(2)
      await waitFor(() => transport.stats.sent === 3)
      expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, 2).concat(`${ns}-9`))
      const warnings = warn.getCalls().map(({ args }) => `${args[0]} ${args[1]}`)
      expect(warnings).to.deep.equal([`${LOG_PREFIX} stored queue out of shape, not read:`])
      for (const key of [good, ...bad]) expect(localStorage.getItem(key)).to.equal(null)
      expect(errors).to.deep.equal([])
    })
  }

  it('drops the oldest rows past maxMemoryRows, counted, reported together, warning once', async () => {
    const ns = namespace()
    const warn = sinon.stub(console, 'warn')
    const { transport, reports, push } = transportFor(ns, { maxMemoryRows: 5, flushInterval: 100 })
    push(8)
    await Promise.resolve()
    expect(reports.map((r) => [r.type, r.ids])).to.deep.equal([
      ['dropped', [`${ns}-0`, `${ns}-1`, `${ns}-2`]],
    ])
    expect(reports[0]?.reason?.message).to.contain('Queue full')
    expect(transport.stats.dropped).to.deep.equal({ overflow: 3 })
    expect(warn.callCount).to.equal(1)
    await waitFor(() => transport.stats.sent === 5)
    expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, 5, 3))
  })

  it('drops the oldest rows past maxMemoryBytes, counted as stored (id and tries too)', async () => {
    const ns = namespace()
    sinon.stub(console, 'warn')
    // A stored row: `[tries,"id",row]` and the comma after it.
    const size = JSON.stringify([0, `${ns}-0`, rowOf(ns, 0)]).length + 1
    const { transport, push } = transportFor(ns, { maxMemoryBytes: size * 4, flushInterval: 100 })
    push(6)
    await Promise.resolve()
    expect(transport.stats.dropped).to.deep.equal({ overflow: 2 })
    await waitFor(() => transport.stats.sent === 4)
    expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, 4, 2))
  })

  it('holds the oldest rows past maxQueueRows in memory only, still delivering them', async () => {
    const ns = namespace()
    const warn = sinon.stub(console, 'warn')
    await script(ns, [{ status: 200, delayMs: UNANSWERED_MS }])
    const { transport, reports, push } = transportFor(ns, { maxQueueRows: 5, flushInterval: 300 })
    push(8)
    expect(transport.stats).to.include({ queued: 8, memoryOnly: 3 })
    await waitFor(() => storageKeys(ns).length > 0)
    expect(persistedIds(ns)).to.deep.equal(expectedIds(ns, 5, 3))
    await waitFor(() => transport.stats.sent === 8)
    expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, 8))
    expect(transport.stats).to.deep.include({ memoryOnly: 0, dropped: {} })
    expect(reports.every((report) => report.type === 'sent')).to.equal(true)
    expect(warn.callCount).to.equal(0)
  })

  it('holds the oldest rows past maxQueueBytes in memory only, counted as stored', async () => {
    const ns = namespace()
    const size = JSON.stringify([0, `${ns}-0`, rowOf(ns, 0)]).length + 1
    await script(ns, [{ status: 200, delayMs: UNANSWERED_MS }])
    const { transport, push } = transportFor(ns, { maxQueueBytes: size * 4, flushInterval: 300 })
    push(6)
    expect(transport.stats).to.include({ queued: 6, memoryOnly: 2 })
    await waitFor(() => storageKeys(ns).length > 0)
    expect(persistedIds(ns)).to.deep.equal(expectedIds(ns, 4, 2))
    await waitFor(() => transport.stats.sent === 6)
    expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, 6))
  })
})
