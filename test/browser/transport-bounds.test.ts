// A burst bigger than what storage may hold (docs/design.md#transport, "Bounds"): the storage
// bounds limit what localStorage holds, the memory bounds what the page holds, and a healthy or
// recovering relay gets every row of a burst within the memory bounds.
import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import type { DeliveryReport, TransportStats } from '../../src/transport/types.js'
import { namespace, script } from './helpers.js'
import { laneName } from '../../src/transport/storedFormat.js'
import { storedRows } from '../fixtures/storedQueue.js'
import { burst, BURST, BURST_PAD, closeTransports } from '../fixtures/transports.js'
import {
  answered,
  clearStorage,
  closeFrames,
  expectedIds,
  openFrame,
  storageKeys,
  storedIds,
  transportPage,
  transportPageUrl,
  waitFor,
} from '../fixtures/frames.js'
import { EVENTS, transportOptions } from '../fixtures/wire.js'

/** Characters that make a row about as big as a realistic event row (~1 KB). */
const PAD = BURST_PAD
const options = transportOptions('')
/**
 * Checks localStorage after every write to `ns`'s keys: the rows stored stay within the storage
 * bounds, framing aside (each chunk adds its target and a few brackets). Returns the most rows
 * seen stored at once.
 */
function watchStorage(ns: string, storage: Storage = localStorage): () => number {
  const target = JSON.stringify(laneName(EVENTS))
  const problems: string[] = []
  let most = 0
  const check = (): void => {
    const keys = storageKeys(ns)
    const chars = keys.reduce((sum, key) => sum + (storage.getItem(key)?.length ?? 0), 0)
    if (chars > options.maxQueueBytes + keys.length * (target.length + 8)) {
      problems.push(`${chars} characters in ${keys.length} chunks`)
    }
    const rows = storedRows(keys).length
    if (rows > options.maxQueueRows) problems.push(`${rows} rows`)
    most = Math.max(most, rows)
  }
  const setItem = Storage.prototype.setItem
  sinon.stub(Storage.prototype, 'setItem').callsFake(function (this: Storage, key, value) {
    setItem.call(this, key, value)
    if (key.includes(ns)) check()
  })
  return () => {
    check()
    expect(problems).to.deep.equal([])
    return most
  }
}

describe('transport: a burst past the storage bounds', function () {
  this.timeout(30_000)
  afterEach(async () => {
    closeTransports()
    closeFrames()
    sinon.restore()
    clearStorage('selligent-test:')
  })

  it('delivers all 10,000 rows pushed in one task to a healthy relay, storage within its bounds', async () => {
    const ns = namespace()
    const storage = watchStorage(ns)
    // The requests sent during the burst are answered after the first write, which then holds
    // every stored row.
    await script(ns, [{ status: 200, delayMs: 500, times: 4 }, { status: 200 }])
    const { transport, push } = burst(ns)
    push()
    // Storage keeps what fits, the newest rows and those already sent; the rest, sent first, is
    // held in memory only.
    const { memoryOnly } = transport.stats
    expect(transport.stats.queued).to.equal(BURST)
    expect(memoryOnly).to.be.within(BURST - options.maxQueueBytes / PAD, BURST - 1)
    await waitFor(() => transport.stats.sent === BURST, 20_000)
    const ids = await storedIds(ns)
    expect(ids.length).to.equal(BURST)
    expect(ids.sort()).to.deep.equal(expectedIds(ns, BURST))
    expect(transport.stats).to.deep.include({ queued: 0, memoryOnly: 0, dropped: {} })
    expect(storage()).to.equal(BURST - memoryOnly)
  })

  it('delivers all 10,000 once the relay recovers, the page kept open', async () => {
    const ns = namespace()
    await script(ns, [
      { status: 503, headers: { 'Retry-After': '0.3' }, times: 4 },
      { status: 200 },
    ])
    const storage = watchStorage(ns)
    const { transport, push } = burst(ns)
    push()
    await waitFor(async () => (await answered(ns)).length >= 4, 10_000)
    expect(transport.stats.memoryOnly).to.be.above(0)
    await waitFor(() => transport.stats.sent === BURST, 20_000)
    expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, BURST))
    expect(transport.stats).to.deep.include({ queued: 0, memoryOnly: 0, dropped: {} })
    storage()
  })

  it('after a reload in an outage, the stored share arrives and the rest is reported lost', async () => {
    const ns = namespace()
    // The first page's relay stays down; the next page sends to one that is up (namespace
    // `after`), under the same storage key.
    await script(ns, [{ status: 503 }])
    const after = namespace()
    const frame = openFrame(transportPageUrl(ns, 20, `&pad=${PAD}`))
    const page = await transportPage(frame)
    page.push(ns, BURST)
    // The relay has failed the first request, and the queue is written.
    await waitFor(async () => (await answered(ns)).length > 0 && storageKeys(ns).length > 0)
    const { memoryOnly: heldOnly, queued } = page.transport.stats
    const stored = storedRows(storageKeys(ns))
    expect(heldOnly).to.equal(queued - stored.length)
    expect(queued).to.equal(BURST)
    // What the page reported by the time it went.
    let reports: DeliveryReport[] = []
    let stats: TransportStats | undefined
    frame.contentWindow?.addEventListener('pagehide', () => {
      reports = [...page.reports]
      stats = JSON.parse(JSON.stringify(page.transport.stats)) as TransportStats
    })
    frame.contentWindow?.location.assign(
      transportPageUrl(ns, 20, `&pad=${PAD}`).replace(`ns=${ns}`, `ns=${after}`),
    )
    const next = await waitFor(
      () =>
        frame.contentWindow?.location.search.includes(after) && frame.contentWindow.transportPage,
    )
    await waitFor(() => next.transport.stats.sent > 0 && next.transport.stats.queued === 0, 10_000)
    expect(stats?.dropped).to.deep.equal({ lost: heldOnly })
    expect(reports.map((report) => [report.type, report.reason?.message])).to.deep.equal([
      ['dropped', `Lost with the page for ${EVENTS.method} ${EVENTS.path}`],
    ])
    // The stored share arrives, each row once; every other row was reported lost.
    const arrived = await storedIds(after)
    expect(arrived.sort()).to.deep.equal(stored.map(([, id]) => id).sort())
    expect([...arrived, ...(reports[0]?.ids ?? [])].sort()).to.deep.equal(expectedIds(ns, BURST))
    expect(await storedIds(ns)).to.deep.equal([])
  })
})
