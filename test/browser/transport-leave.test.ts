import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import type { DeliveryReport } from '../../src/transport/types.js'
import { namespace, script } from './helpers.js'
import {
  answered,
  clearStorage,
  closeFrames,
  expectedIds,
  idsOf,
  openFrame,
  sleep,
  storedIds,
  transportPage,
  transportPageUrl,
  waitFor,
} from '../fixtures/frames.js'
import { closeTransports, transportFor } from '../fixtures/transports.js'
import { EVENTS } from '../fixtures/wire.js'

const bytes = (body: unknown): number => new TextEncoder().encode(JSON.stringify(body)).length

describe('transport: page leave', function () {
  this.timeout(5000)
  afterEach(() => {
    closeTransports()
    closeFrames()
    sinon.restore()
    clearStorage('selligent-test:')
  })

  it('sends every queued row with keepalive fetch when the page navigates away', async () => {
    const ns = namespace()
    const frame = openFrame(transportPageUrl(ns, 60000))
    ;(await transportPage(frame)).push(ns, 20)
    frame.contentWindow?.location.assign('/test/fixtures/blank.html')
    await waitFor(async () => (await storedIds(ns)).length === 20)
    expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, 20))
    expect(Object.keys(localStorage).filter((key) => key.includes(ns))).to.deep.equal([])
  })

  it('keeps keepalive bodies under 64 KB in flight; the next page sends the rest, none twice', async () => {
    const ns = namespace()
    const frame = openFrame(transportPageUrl(ns, 60000, '&pad=500&batch=1000&page=1'))
    ;(await transportPage(frame)).push(ns, 200)
    frame.contentWindow?.location.assign(transportPageUrl(ns, 20, '&page=2'))
    await waitFor(async () => (await storedIds(ns)).length >= 200)
    await sleep(100)
    const log = await answered(ns)
    const onLeave = log.filter((request) => request.headers.referer?.includes('page=1'))
    const nextPage = log.filter((request) => request.headers.referer?.includes('page=2'))
    expect(onLeave.reduce((sum, request) => sum + bytes(request.body), 0))
      .to.be.above(30_000)
      .and.at.most(65_536)
    expect(idsOf(nextPage)).to.have.length.above(0)
    expect([...idsOf(onLeave), ...idsOf(nextPage)].sort()).to.deep.equal(expectedIds(ns, 200))
  })

  it('leaves to the browser a request still out when the page goes, failed before pagehide reaches the transport', async () => {
    const ns = namespace()
    await script(ns, [{ status: 200, delayMs: 500 }])
    const frame = openFrame(transportPageUrl(ns, 20, '&pagehidefirst&page=1'))
    ;(await transportPage(frame)).push(ns, 5)
    // Out, awaiting its answer, when the page goes.
    await waitFor(async () => (await answered(ns)).length === 1)
    frame.contentWindow?.location.assign(transportPageUrl(ns, 20, '&page=2'))
    await waitFor(async () => (await storedIds(ns)).length >= 5)
    await sleep(1500)
    expect(await storedIds(ns)).to.deep.equal(expectedIds(ns, 5))
  })

  it('sends again after a back/forward-cache restore when a request failed during pagehide', async () => {
    const ns = namespace()
    const realFetch = window.fetch.bind(window)
    let failRequestOut: (error: Error) => void = () => undefined
    const fetch = sinon
      .stub(window, 'fetch')
      .callsFake((...args: Parameters<typeof window.fetch>) =>
        fetch.callCount > 1
          ? realFetch(...args)
          : new Promise<Response>((_, reject) => (failRequestOut = reject)),
      )
    const { push } = transportFor(ns)
    push(1)
    await waitFor(() => fetch.callCount === 1)
    // The browser fails the page's fetches while it dispatches pagehide, before this transport's
    // listener when earlier ones ran first (see the test above, in a real navigation): played
    // here by failing the request while `window.event` is that pagehide.
    const pagehide = new PageTransitionEvent('pagehide', { persisted: true })
    const currentEvent = sinon.stub(window, 'event').get(() => pagehide)
    failRequestOut(new TypeError('Failed to fetch'))
    await sleep(0)
    currentEvent.restore()
    dispatchEvent(pagehide)
    dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))
    push(1, { from: 1 })
    await waitFor(async () => (await storedIds(ns)).includes(`${ns}-1`))
  })

  it('falls back to sendBeacon (text/plain) without keepalive fetch, halving refused beacons', async () => {
    const ns = namespace()
    const frame = openFrame(transportPageUrl(ns, 60000, '&pad=300&nokeepalive'))
    const page = await transportPage(frame)
    const navigator = frame.contentWindow?.navigator as Navigator
    const beacon = navigator.sendBeacon.bind(navigator)
    // Refuses bodies over 1,500 bytes, as a browser out of beacon quota does.
    const sendBeacon = sinon
      .stub(navigator, 'sendBeacon')
      .callsFake((url, body) => String(body).length <= 1500 && beacon(url, body))
    page.push(ns, 12)
    frame.contentWindow?.location.assign('/test/fixtures/blank.html')
    await waitFor(async () => (await storedIds(ns)).length === 12)
    const log = await answered(ns)
    expect(log.every((request) => request.contentType === 'text/plain;charset=UTF-8')).to.equal(
      true,
    )
    expect(log.every((request) => request.path === EVENTS.path)).to.equal(true)
    expect(log.map((request) => (request.body as unknown[]).length)).to.deep.equal([3, 3, 3, 3])
    expect(sendBeacon.callCount).to.equal(7)
    expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, 12))
  })

  it('sends queued rows at once when the page becomes hidden', async () => {
    const ns = namespace()
    const { transport, push } = transportFor(ns, { flushInterval: 60_000 })
    push(1)
    sinon.stub(document, 'visibilityState').get(() => 'hidden')
    document.dispatchEvent(new Event('visibilitychange'))
    await waitFor(() => transport.stats.sent === 1, 1000)
    expect(await storedIds(ns)).to.deep.equal([`${ns}-0`])
  })

  it('reports as lost the rows in memory only of a request still out when the page goes', async () => {
    const ns = namespace()
    // The first answer fails the target; the retry is still out, answered too late, when the
    // page goes. Nothing is stored (no storage key): every row is held in memory only.
    await script(ns, [
      { status: 503, headers: { 'Retry-After': '0.05' } },
      { status: 200, delayMs: 2000 },
    ])
    const frame = openFrame(`/test/fixtures/transport.html?ns=${ns}&flush=0`)
    const page = await transportPage(frame)
    page.push(ns, 5)
    await waitFor(async () => (await answered(ns)).length === 2)
    let reports: DeliveryReport[] = []
    frame.contentWindow?.addEventListener('pagehide', () => (reports = [...page.reports]))
    frame.contentWindow?.location.assign('/test/fixtures/blank.html')
    await waitFor(() => reports.length)
    expect(reports.map((report) => [report.type, report.ids])).to.deep.equal([
      ['dropped', expectedIds(ns, 5)],
    ])
    expect(reports[0]?.reason?.message).to.contain('Lost with the page')
  })

  it('never listens to unload or beforeunload (they keep pages out of the back/forward cache)', () => {
    const listen = sinon.spy(window, 'addEventListener')
    transportFor('none', { storageKey: 'selligent-test:unload' })
    closeTransports()
    const events = listen.getCalls().map((call) => call.args[0])
    expect(events).to.include('pagehide')
    expect(events).not.to.include.members(['unload'])
    expect(events).not.to.include.members(['beforeunload'])
  })
})
