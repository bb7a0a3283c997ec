import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { selligentPlugin } from '../../src/index.js'
import { loadAnalytics, namespace, proxySettings, recorded, type Context } from './helpers.js'
import { callsOn, clearStorage, idsOf, locksOf, sleep, waitFor } from '../fixtures/frames.js'

/** Settings that persist, under `selligent:acme:{ns}`. */
const persisting = (ns: string) =>
  proxySettings(ns, { persist: true, eventsDataListApiName: ns, flushInterval: 20 })

/** Spies on what the page listens to and on its reads of storage (any Storage method that reads). */
function watchPage() {
  const listen = sinon.spy(window, 'addEventListener')
  const reads = [
    sinon.spy(Storage.prototype, 'key'),
    sinon.spy(Storage.prototype, 'getItem'),
    sinon.spy(Storage.prototype, 'length', ['get']).get,
  ]
  return {
    listened: (): unknown[] => listen.getCalls().map(({ args }) => args[0]),
    storageReads: (): number => reads.reduce((sum, spy) => sum + spy.callCount, 0),
  }
}

describe('a page view: what load() and the first calls cost', function () {
  this.timeout(8000)
  afterEach(() => {
    sinon.restore()
    clearStorage('selligent:acme:t')
  })

  it('load() reads no storage, takes no lock and listens to nothing but pagehide', async () => {
    const ns = namespace()
    const analytics = await loadAnalytics([])
    const plugin = selligentPlugin(persisting(ns))
    const page = watchPage()
    const lock = sinon.spy(navigator.locks, 'request')
    await plugin.load({} as Context, analytics)
    expect(page.listened()).to.deep.equal(['pagehide'])
    expect(lock.callCount).to.equal(0)
    expect(page.storageReads()).to.equal(0)
    expect(plugin.isLoaded()).to.equal(true)
    // The task after: the transport is made; in a task of its own, it looks for queues other
    // pages left.
    await sleep(0)
    await sleep(0)
    expect(page.listened()).to.include('storage')
    expect(page.storageReads()).to.be.above(0)
  })

  it('the first call neither reads storage nor listens to it: a task of its own does', async () => {
    const ns = namespace()
    const analytics = await loadAnalytics([])
    const call = await analytics.track('Order Completed', { total: 1 })
    const plugin = selligentPlugin(persisting(ns))
    await plugin.load({} as Context, analytics)
    const page = watchPage()
    // Before the task after load(): this call makes the transport.
    plugin.track!(call)
    expect(page.listened()).not.to.include('storage')
    expect(page.storageReads()).to.equal(0)
    await sleep(0)
    expect(page.listened()).to.include('storage')
    expect(page.storageReads()).to.be.above(0)
    await waitFor(async () => idsOf(await recorded(ns)).length === 1)
  })

  it('a page view answered in time writes nothing to storage and takes no lock', async () => {
    const ns = namespace()
    const setItem = sinon.spy(Storage.prototype, 'setItem')
    const analytics = await loadAnalytics([selligentPlugin(persisting(ns))])
    await analytics.identify('user-1', { email: 'jane@example.com' })
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => analytics.track('Order Completed', { i })),
    )
    await waitFor(async () => idsOf(await recorded(ns)).length === 9)
    await sleep(300)
    expect(callsOn(setItem, ns)).to.deep.equal([])
    expect(Object.keys(localStorage).filter((key) => key.includes(ns))).to.deep.equal([])
    expect(await locksOf(ns)).to.deep.equal([])
  })
})
