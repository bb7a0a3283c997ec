import { expect } from '@esm-bundle/chai'
import { namespace } from './helpers.js'
import {
  answered,
  clearStorage,
  closeFrames,
  expectedIds,
  idsOf,
  openFrame,
  sleep,
  storageKeys,
  storedIds,
  transportPage,
  transportPageUrl,
  waitFor,
} from '../fixtures/frames.js'
import { leaveCrashedQueue } from '../fixtures/storedQueue.js'
import { EVENTS, rowOf } from '../fixtures/wire.js'

/** What a page that crashed with `count` rows queued leaves in storage: a key nobody holds. */
function leaveCrashed(ns: string, count: number): string {
  const rows = Array.from({ length: count }, (_, i) => rowOf(ns, i))
  return leaveCrashedQueue(`selligent-test:${ns}`, EVENTS, rows)
}

/** Long enough for a second send to show. */
const settle = (): Promise<void> => sleep(200)

/** Fails unless every id reached the server once, in any request, whatever its answer. */
async function expectEachSentOnce(ns: string, expected: string[]): Promise<void> {
  expect(idsOf(await answered(ns)).sort()).to.deep.equal(expected)
}

describe('transport: several tabs, Web Locks', function () {
  this.timeout(8000)
  afterEach(() => {
    closeFrames()
    clearStorage('selligent-test:')
  })

  it('a new page delivers the rows a crashed page left in storage', async () => {
    const ns = namespace()
    const crashed = leaveCrashed(ns, 10)
    openFrame(transportPageUrl(ns, 20))
    await waitFor(async () => (await storedIds(ns)).length === 10)
    await expectEachSentOnce(ns, expectedIds(ns, 10))
    expect(localStorage.getItem(crashed)).to.equal(null)
  })

  it('two pages opened together send the rows a crashed page left once, not twice', async () => {
    const ns = namespace()
    leaveCrashed(ns, 30)
    openFrame(transportPageUrl(ns, 20))
    openFrame(transportPageUrl(ns, 20))
    await waitFor(async () => (await storedIds(ns)).length >= 30)
    await settle()
    await expectEachSentOnce(ns, expectedIds(ns, 30))
  })

  it('two live pages each send only their own rows', async () => {
    const ns = namespace()
    const [a, b] = await Promise.all([
      transportPage(openFrame(transportPageUrl(ns, 20))),
      transportPage(openFrame(transportPageUrl(ns, 20))),
    ])
    a.push(`${ns}-a`, 10)
    b.push(`${ns}-b`, 10)
    await waitFor(async () => (await storedIds(ns)).length >= 20)
    await settle()
    await expectEachSentOnce(ns, [...expectedIds(`${ns}-a`, 10), ...expectedIds(`${ns}-b`, 10)])
  })

  /**
   * Opens a page that stays, then one that queues `count` rows offline, so they stay queued in
   * storage (it can send nothing); `extra` adds to its query. Resolves to what closes it.
   */
  async function pageWithRowsQueued(ns: string, count: number, extra = ''): Promise<() => void> {
    await transportPage(openFrame(transportPageUrl(ns, 20)))
    const closing = openFrame(transportPageUrl(ns, 20, `&offline${extra}`))
    ;(await transportPage(closing)).push(ns, count)
    await sleep(200)
    expect(await answered(ns)).to.deep.equal([])
    return () => closing.remove()
  }

  it('the other page delivers the rows of a page closed with rows queued, once', async () => {
    const ns = namespace()
    ;(await pageWithRowsQueued(ns, 5))()
    await waitFor(async () => (await storedIds(ns)).length === 5)
    await expectEachSentOnce(ns, expectedIds(ns, 5))
  })

  it('the other page delivers a closed page’s queue of many chunks once, oldest first', async () => {
    const ns = namespace()
    const close = await pageWithRowsQueued(ns, 1200, '&pad=300')
    // Many chunks, read back in the order they were started (localStorage lists keys in an order
    // of its own: Chrome's is by text, Firefox's by hash).
    expect(storageKeys(ns).length).to.be.above(10)
    close()
    await waitFor(async () => (await storedIds(ns)).length === 1200)
    const ids = idsOf(await answered(ns))
    expect(ids).to.deep.equal(Array.from({ length: 1200 }, (_, i) => `${ns}-${i}`))
  })
})

// Without Web Locks a page keeps its queue in memory: it sends its own rows, never another
// page's, and leaves what other pages left in storage to a page with Web Locks.
describe('transport: several tabs, no Web Locks', function () {
  this.timeout(8000)
  afterEach(() => {
    closeFrames()
    clearStorage('selligent-test:')
  })

  it('two live pages each send only their own rows, and write nothing', async () => {
    const ns = namespace()
    const [a, b] = await Promise.all([
      transportPage(openFrame(transportPageUrl(ns, 20, '&nolocks'))),
      transportPage(openFrame(transportPageUrl(ns, 20, '&nolocks'))),
    ])
    a.push(`${ns}-a`, 10)
    b.push(`${ns}-b`, 10)
    await sleep(150)
    expect(storageKeys(ns)).to.deep.equal([])
    await waitFor(async () => (await storedIds(ns)).length >= 20)
    await settle()
    await expectEachSentOnce(ns, [...expectedIds(`${ns}-a`, 10), ...expectedIds(`${ns}-b`, 10)])
  })

  it('a page sends its own queued rows when it is left', async () => {
    const ns = namespace()
    const frame = openFrame(transportPageUrl(ns, 60000, '&nolocks'))
    ;(await transportPage(frame)).push(ns, 5)
    frame.contentWindow?.location.assign('/test/fixtures/blank.html')
    await waitFor(async () => (await storedIds(ns)).length === 5)
    await settle()
    await expectEachSentOnce(ns, expectedIds(ns, 5))
  })

  it('pages leave the rows a crashed page left alone; a page with Web Locks sends them once', async () => {
    const ns = namespace()
    const crashed = leaveCrashed(ns, 10)
    const pages = await Promise.all([
      transportPage(openFrame(transportPageUrl(ns, 20, '&nolocks'))),
      transportPage(openFrame(transportPageUrl(ns, 20, '&nolocks'))),
    ])
    pages[0]?.push(`${ns}-own`, 3)
    await waitFor(async () => (await storedIds(ns)).length === 3)
    await settle()
    expect(storageKeys(ns)).to.deep.equal([crashed])
    openFrame(transportPageUrl(ns, 20))
    await waitFor(async () => (await storedIds(ns)).length === 13)
    await settle()
    await expectEachSentOnce(ns, [...expectedIds(`${ns}-own`, 3), ...expectedIds(ns, 10)].sort())
  })
})
