import { expect } from '@esm-bundle/chai'
import { recorded, rowsOf, until, type Recorded } from './helpers.js'

// The built drop-in (dist/selligent.iife.min.js, `npm run build` runs first) in plain HTML pages
// (test/fixtures/iife/) with Segment's snippet and analytics-next's own standalone build, each in
// a fresh iframe so each page has its own window.analytics.

interface Captured {
  consoleErrors: string[]
  uncaught: string[]
}
type FixtureWindow = Window & {
  captured: Captured
  SelligentMarketingCloud?: { selligentPlugin: unknown; version: string }
  analytics?: unknown
  hasSelligent(): boolean
}

const frames: HTMLIFrameElement[] = []

async function open(page: string): Promise<FixtureWindow> {
  const frame = document.createElement('iframe')
  frames.push(frame)
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }))
  frame.src = `/test/fixtures/iife/${page}`
  document.body.appendChild(frame)
  await loaded
  return frame.contentWindow as FixtureWindow
}

async function reset(ns: string): Promise<void> {
  await fetch(`/__rec/${ns}/reset`, { method: 'POST' })
}

/** The rows the recording server got once `count` have arrived. */
async function rowsArriving(ns: string, count: number): Promise<Recorded[]> {
  await until(async () => rowsOf(await recorded(ns)).length >= count, 10_000)
  return recorded(ns)
}

/** The rows of identify, the allowed track and the page call (docs/design.md#event-rows). */
function expectDocRows(requests: Recorded[]): void {
  for (const request of requests) {
    expect(request.method).to.equal('POST')
    expect(request.path).to.equal('/organizations/iife-org/lists/segment_events/data/load')
    expect(request.query).to.deep.equal({
      keyFields: 'EVENT_ID',
      fields:
        'EVENT_ID,EVENT_TYPE,EVENT_NAME,USER_ID,ANONYMOUS_ID,PREVIOUS_ID,PROPERTIES,CONTEXT,TIMESTAMP',
    })
    expect(request.contentType).to.match(/^text\/plain/)
  }
  const rows = rowsOf(requests)
  const summary = rows.map(([, type, name, userId, , , properties]) => [
    type,
    name,
    userId,
    // page properties are the page's own (url, path, title…) plus the name
    type === 'page' ? (JSON.parse(properties as string) as { name: string }).name : properties,
  ])
  expect(summary).to.have.deep.members([
    ['identify', '', 'userId123', '{"property1":1,"property2":"test","property3":true}'],
    ['track', 'Order Completed', 'userId123', '{"total":30}'],
    ['page', 'Home', 'userId123', 'Home'],
  ])
  for (const row of rows) {
    expect(row).to.have.length(9)
    expect(row[4], 'ANONYMOUS_ID').to.match(/^[0-9a-f-]{36}$/)
    expect(JSON.parse(row[7] as string).page.path, 'CONTEXT page path').to.match(
      /^\/test\/fixtures\/iife\//,
    )
    expect(Date.parse(row[8] as string), 'TIMESTAMP').to.be.closeTo(Date.now(), 60_000)
  }
}

describe('script-tag drop-in (dist/selligent.iife.min.js)', function () {
  this.timeout(20_000)
  afterEach(() => {
    for (const frame of frames.splice(0)) frame.remove()
  })

  it('registers through the snippet stub when it loads before analytics-next', async () => {
    await reset('iife-stub-first')
    const page = await open('stub-first.html')
    const requests = await rowsArriving('iife-stub-first', 3)
    expectDocRows(requests)
    expect(page.hasSelligent()).to.equal(true)
    expect(page.captured).to.deep.equal({ consoleErrors: [], uncaught: [] })
    // Settings and bundles came from the local "CDN": nothing left the machine.
    const fetched = page.performance.getEntriesByType('resource').map((entry) => entry.name)
    expect(fetched).to.include(
      `${location.origin}/test/fixtures/iife/cdn/v1/projects/iife-key/settings`,
    )
    expect(fetched.filter((url) => !url.startsWith(location.origin))).to.deep.equal([])
  })

  it('registers when window.analytics is assigned after it (snippet below the drop-in)', async () => {
    await reset('iife-first')
    const page = await open('iife-first.html')
    expectDocRows(await rowsArriving('iife-first', 3))
    // It got out of the way: window.analytics is a plain property again.
    const descriptor = Object.getOwnPropertyDescriptor(page, 'analytics')
    expect(descriptor?.writable).to.equal(true)
    expect(page.captured).to.deep.equal({ consoleErrors: [], uncaught: [] })
  })

  it('registers on an analytics-next that has already loaded', async () => {
    await reset('iife-analytics-first')
    const page = await open('analytics-first.html')
    expectDocRows(await rowsArriving('iife-analytics-first', 3))
    expect(page.captured).to.deep.equal({ consoleErrors: [], uncaught: [] })
  })

  it('data-consent-categories: only a call whose preferences grant every category is sent', async () => {
    await reset('iife-consent')
    const page = await open('consent-categories.html')
    const rows = rowsOf(await rowsArriving('iife-consent', 1))
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(rowsOf(await recorded('iife-consent')).map((row) => row[6])).to.deep.equal([
      '{"granted":"both"}',
    ])
    expect(rows).to.have.length(1)
    expect(page.captured).to.deep.equal({ consoleErrors: [], uncaught: [] })
  })

  it('reports bad attributes in one console error, registers nothing, throws nothing', async () => {
    const page = await open('bad-attributes.html')
    await until(() => (page.analytics as { initialized?: boolean }).initialized === true, 10_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const ours = page.captured.consoleErrors.filter((m) => m.includes('Selligent'))
    expect(ours).to.have.length(1)
    for (const attribute of [
      'data-organization',
      'data-proxy-url',
      'data-send-page-events',
      'data-batch-size',
      'data-columns',
      'data-api-secret',
    ]) {
      expect(ours[0]).to.include(attribute)
    }
    expect(ours[0], 'the secret is not echoed').not.to.include('s3cr3t')
    expect(page.captured.uncaught).to.deep.equal([])
    expect(page.hasSelligent()).to.equal(false)
    expect(page.SelligentMarketingCloud?.version).to.be.a('string')
  })

  it('reports a global var analytics it cannot wait for in one console error, throwing nothing', async () => {
    const page = await open('var-analytics-first.html')
    const ours = page.captured.consoleErrors.filter((m) => m.includes('Selligent'))
    expect(ours).to.have.length(1)
    expect(ours[0]).to.match(/drop-in failed: TypeError/)
    expect(page.captured.uncaught).to.deep.equal([])
    expect(page.SelligentMarketingCloud?.version).to.be.a('string')
  })

  it('without data attributes only defines the global', async () => {
    const page = await open('no-attributes.html')
    expect(page.SelligentMarketingCloud?.selligentPlugin).to.be.a('function')
    expect(Object.getOwnPropertyDescriptor(page, 'analytics')).to.equal(undefined)
    expect(page.captured).to.deep.equal({ consoleErrors: [], uncaught: [] })
  })
})
