// Consent with Segment's real consent tools (docs/consent.md): a wrapper made with createWrapper,
// a consent manager the test flips, the real analytics-next, and the wire as the server saw it.
import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { createWrapper, type AnyAnalytics } from '@segment/analytics-consent-tools'
import { PLUGIN_NAME, selligentPlugin, type SelligentPlugin } from '../../src/index.js'
import {
  AnalyticsBrowser,
  loadAnalytics,
  namespace,
  proxySettings,
  recorded,
  rowsOf,
  script,
  until,
  type Analytics,
} from './helpers.js'
import { leaveCrashedQueue } from '../fixtures/storedQueue.js'
import { closeFrames, openFrame, sleep, transportPage } from '../fixtures/frames.js'
import { EVENTS, rowOf } from '../fixtures/wire.js'

/** A consent manager (a CMP) the test flips: whether the visitor grants `Marketing`. */
function fakeCmp(marketing: boolean) {
  const listeners: ((categories: Record<string, boolean>) => void)[] = []
  let categories = { Marketing: marketing, Analytics: true }
  return {
    getCategories: () => ({ ...categories }),
    registerOnConsentChanged: (listener: (categories: Record<string, boolean>) => void) => {
      listeners.push(listener)
    },
    /** The visitor grants (`true`) or withdraws `Marketing`. */
    setMarketing(on: boolean) {
      categories = { ...categories, Marketing: on }
      for (const listener of listeners) listener({ ...categories })
    },
  }
}

/**
 * analytics-next loaded through a consent wrapper of `consentModel`, mapping this destination to
 * `Marketing` (and another to `Analytics`, so that a visitor who grants only `Analytics` still
 * loads Segment: the opt-out blocking is then the destination middleware's), with `plugins`
 * registered at load.
 */
async function loadWrapped(
  consentModel: 'opt-in' | 'opt-out',
  cmp: ReturnType<typeof fakeCmp>,
  plugins: SelligentPlugin[],
): Promise<Analytics> {
  const browser = new AnalyticsBrowser()
  createWrapper({
    getCategories: cmp.getCategories,
    registerOnConsentChanged: cmp.registerOnConsentChanged,
    integrationCategoryMappings: { [PLUGIN_NAME]: ['Marketing'], 'Other Tool': ['Analytics'] },
    shouldLoadSegment: (ctx) => ctx.load({ consentModel }),
  })(browser as unknown as AnyAnalytics)
  void browser.load(
    { writeKey: 'test-write-key', cdnSettings: { integrations: {} } as never, plugins },
    { disableClientPersistence: true, integrations: { 'Segment.io': false } },
  )
  const [analytics] = await browser
  return analytics
}

/** One call of each kind this plugin sends, `tag` in each. */
async function callEach(analytics: Analytics, tag: string): Promise<void> {
  await analytics.identify(`user-${tag}`, { tag })
  await analytics.track('Order Completed', { tag })
  await analytics.page('Home', { tag })
  await analytics.group('SEGMENT_A', { userlist: 'USERS', matchkey: 'MAIL', tag })
}

/** Every cell the server received, joined: enough to find a tag. */
const wire = async (ns: string): Promise<string> =>
  (await recorded(ns)).map((request) => request.text).join('\n')

/** Settings sending every kind of call `callEach` makes, to namespace `ns`. */
const allCalls = (ns: string, consentCategories?: string[]) =>
  proxySettings(ns, {
    sendPageEvents: true,
    sendGroupEvents: true,
    ...(consentCategories && { consentCategories }),
  })

/** The consent-change event the wrapper sends has been through the plugin. */
const consentChangeSeen = (analytics: Analytics) =>
  new Promise((resolve) => analytics.once('track', resolve))

/** The visitor grants Marketing; once the change is seen, every call type, whose rows arrive. */
async function grantThenCallEach(
  analytics: Analytics,
  cmp: ReturnType<typeof fakeCmp>,
  ns: string,
): Promise<void> {
  const changed = consentChangeSeen(analytics)
  cmp.setMarketing(true)
  await changed
  await callEach(analytics, 'after')
  await until(async () => rowsOf(await recorded(ns)).length === 4)
}

describe('consent: opt-in, consentCategories', function () {
  this.timeout(8000)

  it('sends nothing before consent, at page leave neither; after the grant, the next calls once', async () => {
    const ns = namespace()
    const cmp = fakeCmp(false)
    const plugin = selligentPlugin(allCalls(ns, ['Marketing']))
    const analytics = await loadWrapped('opt-in', cmp, [plugin])
    await callEach(analytics, 'before')
    const started = new Promise((resolve) => analytics.once('dispatch_start', resolve))
    const leaving = analytics.track('Order Completed', { tag: 'leaving' })
    await started
    dispatchEvent(new PageTransitionEvent('pagehide'))
    await leaving
    await plugin.flush()
    await sleep(200)
    expect(await recorded(ns)).to.have.length(0)
    expect(plugin.stats.skipped).to.deep.equal({ consent: 5 })

    await grantThenCallEach(analytics, cmp, ns)
    await sleep(200)
    const text = await wire(ns)
    expect(rowsOf(await recorded(ns))).to.have.length(4)
    expect(text).to.not.match(/before|leaving/)
    expect(text).to.include('user-after')
  })

  it('a call with no consent preferences on it is not sent (fail closed)', async () => {
    const ns = namespace()
    const plugin = selligentPlugin(proxySettings(ns, { consentCategories: ['Marketing'] }))
    const analytics = await loadAnalytics([plugin])
    await analytics.track('Order Completed')
    await plugin.flush()
    await sleep(100)
    expect(await recorded(ns)).to.have.length(0)
    expect(plugin.stats.skipped).to.deep.equal({ consent: 1 })
  })
})

describe('consent: opt-out, the wrapper’s blocking middleware', function () {
  this.timeout(8000)

  it('registered before the wrapper loads: the middleware blocks it until the grant', async () => {
    const ns = namespace()
    const cmp = fakeCmp(false)
    const plugin = selligentPlugin(allCalls(ns))
    const analytics = await loadWrapped('opt-out', cmp, [plugin])
    await callEach(analytics, 'before')
    await plugin.flush()
    await sleep(100)
    expect(await recorded(ns)).to.have.length(0)
    expect(plugin.stats.skipped).to.deep.equal({ middleware: 4 })

    await grantThenCallEach(analytics, cmp, ns)
    expect(await wire(ns)).to.not.include('before')
  })

  it('registered after the wrapper loaded: consentCategories blocks it; the middleware never reaches it', async () => {
    const ns = namespace()
    const cmp = fakeCmp(false)
    const analytics = await loadWrapped('opt-out', cmp, [])
    // analytics-next replays the calls buffered before its load (the wrapper's
    // addDestinationMiddleware among them) in a task after it resolves: registered after that.
    const added = sinon.spy(analytics, 'addDestinationMiddleware')
    await until(() => added.called)
    added.restore()
    const gated = selligentPlugin(allCalls(ns, ['Marketing']))
    // The control: without consentCategories, the same plugin registered as late is not blocked,
    // as analytics-next hands middleware only to the destinations present when it is added.
    const ungatedNs = namespace()
    const ungated = selligentPlugin(allCalls(ungatedNs))
    await analytics.register(gated, ungated)
    await callEach(analytics, 'before')
    await Promise.all([gated.flush(), ungated.flush()])
    await until(async () => rowsOf(await recorded(ungatedNs)).length === 4)
    expect(await recorded(ns)).to.have.length(0)
    expect(gated.stats.skipped).to.deep.equal({ consent: 4 })

    await grantThenCallEach(analytics, cmp, ns)
    expect(await wire(ns)).to.not.include('before')
  })
})

describe('consent withdrawn with rows queued', function () {
  this.timeout(10000)
  afterEach(closeFrames)

  it('discards the rows queued in this tab, its storage and another tab; sends nothing after', async () => {
    const ns = namespace()
    const storageKey = `selligent:acme:${ns}`
    const ours = (): string[] =>
      Object.keys(localStorage).filter((key) => key.startsWith(storageKey))
    // An outage: every request fails and asks for a long wait, so the rows stay queued and stored.
    await script(ns, [{ status: 503, headers: { 'Retry-After': '60' } }])
    // Another tab of the site, with rows of its own queued in the outage.
    const frame = openFrame(
      `/test/fixtures/transport.html?ns=${ns}&key=${storageKey}&channel=${storageKey}&flush=10`,
    )
    const other = await transportPage(frame)
    other.push('other', 3)
    const cmp = fakeCmp(true)
    // Opt-out, registered before the wrapper loads: the wrapper's middleware drops the very event
    // that withdraws consent, so the plugin must read it before any middleware runs.
    const plugin = selligentPlugin({
      ...proxySettings(ns, { consentCategories: ['Marketing'], persist: true }),
      eventsDataListApiName: ns,
    })
    const analytics = await loadWrapped('opt-out', cmp, [plugin])
    for (let i = 0; i < 3; i++) await analytics.track('Order Completed', { tag: `queued-${i}` })
    await until(() => plugin.stats.retried >= 3 && other.transport.stats.retried >= 3)
    await until(() => ours().length >= 2)

    const changed = consentChangeSeen(analytics)
    cmp.setMarketing(false)
    await changed
    expect(plugin.stats.dropped).to.deep.equal({ consent: 3 })
    expect(plugin.stats.queued).to.equal(0)
    await until(() => other.transport.stats.dropped.consent === 3)
    expect(other.transport.stats.queued).to.equal(0)
    expect(ours()).to.deep.equal([])

    // A tab that died with rows written after the withdrawal reached it: adopted by one of the
    // tabs, never sent. Written from the other tab, as a storage event reaches only the others.
    const crashed = leaveCrashedQueue(storageKey, EVENTS, [rowOf('crashed', 0)])
    const text = localStorage.getItem(crashed)!
    localStorage.removeItem(crashed)
    frame.contentWindow!.localStorage.setItem(crashed, text)
    const discarded = () => plugin.stats.dropped.consent! + other.transport.stats.dropped.consent!
    await until(() => discarded() === 7)
    expect(ours()).to.deep.equal([])

    // The outage ends; the calls made now are refused too.
    await script(ns, [])
    const before = (await recorded(ns)).length
    await analytics.track('Order Completed', { tag: 'after' })
    await plugin.flush()
    await other.transport.flush()
    await sleep(300)
    expect((await recorded(ns)).length).to.equal(before)
    // Nothing queued either: the outage's backoff would still hold back a row queued by mistake.
    expect(plugin.stats.queued).to.equal(0)
    expect(other.transport.stats.queued).to.equal(0)
    // The withdrawal itself, and the call after it.
    expect(plugin.stats.skipped).to.deep.equal({ consent: 2 })
  })
})
