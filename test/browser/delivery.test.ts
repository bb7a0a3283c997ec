import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { smcTarget } from '../../src/smc/targets.js'
import { namespace, script, setup } from './helpers.js'
import { leaveCrashedQueue } from '../fixtures/storedQueue.js'
import {
  answered,
  clearStorage,
  closeFrames,
  idsOf,
  openFrame,
  pluginPage,
  sleep,
  waitFor,
  type Answered,
} from '../fixtures/frames.js'

/** The plugin fixture page (real analytics-next, persisting under `selligent:acme:{ns}`). */
const pageUrl = (ns: string, extra = ''): string => `/test/fixtures/plugin.html?ns=${ns}${extra}`

/** The `i` property of every row in requests the server answered 200, and their EVENT_IDs. */
async function stored(ns: string): Promise<{ indexes: number[]; ids: string[] }> {
  const rows = (await answered(ns))
    .filter((request: Answered) => request.status === 200)
    .flatMap((request) => request.body as string[][])
  return {
    indexes: rows
      .map((row) => (JSON.parse(row[6] ?? '{}') as { i: number }).i)
      .sort((a, b) => a - b),
    ids: rows.map((row) => row[0] ?? ''),
  }
}

const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i)

/** Fails unless rows `i` = 0…count-1 were each stored once, under distinct EVENT_IDs. */
async function expectStoredOnce(ns: string, count: number): Promise<void> {
  const { indexes, ids } = await stored(ns)
  expect(indexes).to.deep.equal(range(count))
  expect(new Set(ids).size).to.equal(count)
}

describe('delivery end to end: real analytics-next, the plugin, a real server', function () {
  this.timeout(8000)
  afterEach(() => {
    closeFrames()
    sinon.restore()
    clearStorage('selligent:acme:t')
  })

  it('delivers 20 allowed tracks fired right before the page navigates away', async () => {
    const ns = namespace()
    const page = await pluginPage(openFrame(pageUrl(ns)))
    page.fireAndLeave(20, '/test/fixtures/blank.html')
    await waitFor(async () => (await stored(ns)).ids.length >= 20)
    await sleep(200)
    await expectStoredOnce(ns, 20)
  })

  it('sends what fits on leave and the rest on the next page load, none lost, none twice', async function () {
    // Firefox fires pagehide before analytics-next has handed every call to the plugin: those
    // calls reach the transport after pagehide, one keepalive request each, and the next page
    // (slower to load there) sends the rest; every row still arrives once, within ~5 s.
    this.timeout(15_000)
    const ns = namespace()
    // Answers take a while, as over a real network: requests the page sent before it left are
    // still out then, so what is queued cannot all fit the keepalive budget.
    await script(ns, [{ status: 200, delayMs: 200 }])
    const page = await pluginPage(openFrame(pageUrl(ns, '&pad=300')))
    page.fireAndLeave(200, pageUrl(ns, '&next'))
    await waitFor(async () => (await stored(ns)).ids.length >= 200, 10_000)
    await sleep(300)
    await expectStoredOnce(ns, 200)
    const log = await answered(ns)
    const firstPage = log.filter((request) => !request.headers.referer?.includes('next'))
    expect(firstPage.length).to.be.above(0)
    expect(firstPage.length).to.be.below(log.length)
  })

  it('a page that makes no call delivers the rows a crashed page left, once', async () => {
    const ns = namespace()
    const target = smcTarget('acme', ns, ['EVENT_ID'])
    const ids = [0, 1, 2].map((i) => `${ns}-${i}`)
    const rows = ids.map((id, i) => [id, 'track', JSON.stringify({ i })])
    const crashed = leaveCrashedQueue(`selligent:acme:${ns}`, target, rows)
    await pluginPage(openFrame(pageUrl(ns)))
    await waitFor(async () => idsOf(await answered(ns)).length >= 3)
    await sleep(200)
    expect(idsOf(await answered(ns)).sort()).to.deep.equal(ids)
    expect(localStorage.getItem(crashed)).to.equal(null)
  })

  it('delivers every row once through an outage (503, then 200)', async () => {
    const ns = namespace()
    await script(ns, [{ status: 503, times: 2 }, { status: 200 }])
    const page = await pluginPage(openFrame(pageUrl(ns, '&flush=20')))
    await page.fire(5)
    await waitFor(async () => (await stored(ns)).ids.length >= 5, 5000)
    await expectStoredOnce(ns, 5)
    expect((await answered(ns)).map((request) => request.status)).to.deep.equal([503, 503, 200])
  })

  it('delivers every row once through an outage with a reload in the middle', async () => {
    const ns = namespace()
    await script(ns, [{ status: 503 }])
    const frame = openFrame(pageUrl(ns, '&flush=20'))
    const page = await pluginPage(frame)
    await page.fire(5)
    await waitFor(() => (page.stats() as { retried: number }).retried > 0)
    frame.contentWindow?.location.reload()
    await script(ns, [{ status: 200 }])
    await waitFor(async () => (await stored(ns)).ids.length >= 5, 5000)
    await sleep(200)
    await expectStoredOnce(ns, 5)
  })

  for (const status of [400, 401]) {
    it(`drops rows refused with ${status}, emits delivery_failure, and moves on`, async () => {
      const { ns, plugin, analytics } = await setup()
      await script(ns, [{ status, body: 'Unauthorized' }, { status: 200 }])
      const errors: { code: string; reason: Error }[] = []
      analytics.on('error', (error) => errors.push(error as (typeof errors)[number]))
      const ctx = await analytics.track('Order Completed', { i: 0 })
      await plugin.flush()
      expect(errors.map((error) => error.code)).to.deep.equal(['delivery_failure'])
      expect(errors[0]?.reason.message).to.contain(`HTTP ${status}`).and.contain('/data/load')
      expect(ctx.failedDelivery()?.reason).to.equal(errors[0]?.reason)
      expect(plugin.stats.dropped).to.deep.equal({ rejected: 1 })
      await analytics.track('Order Completed', { i: 1 })
      await plugin.flush()
      expect((await stored(ns)).indexes).to.deep.equal([1])
    })
  }

  it('reports only the rows listed in invalid_records of a PartiallySucceeded answer', async () => {
    const { ns, plugin, analytics } = await setup({ flushInterval: 200 })
    const body = {
      result_code: 'PartiallySucceeded',
      invalid_records: [{ record_index: 1, validation_code: 'MaxStringLengthExceeded' }],
    }
    await script(ns, [{ status: 200, body }])
    const failed: unknown[] = []
    analytics.on('error', (error) => failed.push((error as { ctx: { event: unknown } }).ctx.event))
    const contexts = await Promise.all(
      range(3).map((i) => analytics.track('Order Completed', { i })),
    )
    await plugin.flush()
    expect(failed).to.deep.equal([contexts[1]?.event])
    expect(plugin.stats).to.include({ sent: 2 })
    expect(plugin.stats.dropped).to.deep.equal({ invalid: 1 })
  })
})
