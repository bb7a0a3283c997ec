import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { selligentPlugin } from '../../src/index.js'
import { loadAnalytics, namespace, proxySettings, recorded, type Context } from './helpers.js'
import { clearStorage, idsOf, sleep, waitFor } from '../fixtures/frames.js'

/** Settings that persist, under `selligent:acme:{ns}`. */
const persisting = (ns: string) =>
  proxySettings(ns, { persist: true, eventsDataListApiName: ns, flushInterval: 20 })

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
    const listen = sinon.spy(window, 'addEventListener')
    const lock = sinon.spy(navigator.locks, 'request')
    const keys = sinon.spy(Object, 'keys')
    await plugin.load({} as Context, analytics)
    expect(listen.getCalls().map(({ args }) => args[0])).to.deep.equal(['pagehide'])
    expect(lock.callCount).to.equal(0)
    expect(keys.getCalls().filter(({ args }) => args[0] === localStorage)).to.have.length(0)
    expect(plugin.isLoaded()).to.equal(true)
    // The task after: the transport is made; in a task of its own, it looks for queues other
    // pages left.
    await sleep(0)
    await sleep(0)
    expect(listen.getCalls().map(({ args }) => args[0])).to.include('storage')
    expect(keys.getCalls().filter(({ args }) => args[0] === localStorage)).to.have.length(1)
  })

  it('the first call neither reads storage nor listens to it: a task of its own does', async () => {
    const ns = namespace()
    const analytics = await loadAnalytics([])
    const call = await analytics.track('Order Completed', { total: 1 })
    const plugin = selligentPlugin(persisting(ns))
    await plugin.load({} as Context, analytics)
    const listen = sinon.spy(window, 'addEventListener')
    const keys = sinon.spy(Object, 'keys')
    const storageRead = () => keys.getCalls().filter(({ args }) => args[0] === localStorage)
    // Before the task after load(): this call makes the transport.
    plugin.track!(call)
    expect(listen.getCalls().map(({ args }) => args[0])).not.to.include('storage')
    expect(storageRead()).to.have.length(0)
    await sleep(0)
    expect(listen.getCalls().map(({ args }) => args[0])).to.include('storage')
    expect(storageRead()).to.have.length(1)
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
    expect(setItem.getCalls().filter(({ args }) => String(args[0]).includes(ns))).to.deep.equal([])
    expect(Object.keys(localStorage).filter((key) => key.includes(ns))).to.deep.equal([])
    const { held = [], pending = [] } = await navigator.locks.query()
    expect([...held, ...pending].filter((lock) => lock.name?.includes(ns))).to.deep.equal([])
  })
})
