import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { selligentPlugin } from '../../src/index.js'
import {
  loadAnalytics,
  namespace,
  proxySettings,
  recorded,
  rowsOf,
  sent,
  setup,
  until,
} from './helpers.js'
import { leaveCrashedQueue } from '../fixtures/storedQueue.js'
import { EVENTS, rowOf } from '../fixtures/wire.js'

type Setup = Awaited<ReturnType<typeof setup>>

/** Rows sent after the calls, ending with an identify sentinel that proves the flush happened. */
async function rowsAfter({ ns, plugin, analytics }: Setup): Promise<string[][]> {
  await analytics.identify('sentinel')
  const rows = rowsOf(await sent(ns, plugin))
  expect(rows.at(-1)?.[3]).to.equal('sentinel')
  return rows.slice(0, -1)
}

describe('filtering', () => {
  afterEach(() => sinon.restore())

  it('sends a track whose name is in allowedEvents', async () => {
    const s = await setup()
    await s.analytics.track('Order Completed')
    expect((await rowsAfter(s)).map((row) => row[2])).to.deep.equal(['Order Completed'])
  })

  it('does not send a track whose name is not in allowedEvents', async () => {
    const s = await setup()
    await s.analytics.track('Product Viewed')
    expect(await rowsAfter(s)).to.deep.equal([])
  })

  it('matches allowedEvents exactly and case-sensitively', async () => {
    const s = await setup()
    await s.analytics.track('order completed')
    await s.analytics.track('Order Completed ')
    expect(await rowsAfter(s)).to.deep.equal([])
  })

  it('always sends identify', async () => {
    const s = await setup()
    await s.analytics.identify('userId123')
    expect((await rowsAfter(s)).map((row) => row[1])).to.deep.equal(['identify'])
  })

  const toggles = [
    ['page', 'sendPageEvents', (s: Setup) => s.analytics.page('Home')],
    [
      'screen',
      'sendScreenEvents',
      (s: Setup) => s.analytics.screen('Home', { 'Feed Type': 'private' }),
    ],
    ['alias', 'sendAliasEvents', (s: Setup) => s.analytics.alias('507f191e81')],
    [
      'group',
      'sendGroupEvents',
      (s: Setup) =>
        s.analytics.group('SegmentToSMCStatic', { matchkey: 'MAIL', userlist: 'USERS_SEGMENT' }),
    ],
  ] as const
  for (const [type, toggle, call] of toggles) {
    it(`does not send ${type} by default`, async () => {
      const s = await setup()
      await s.analytics.identify('a@example.com')
      await call(s)
      const requests = await sent(s.ns, s.plugin)
      expect(rowsOf(requests).map((row) => row[1] ?? row[0])).to.deep.equal(['identify'])
    })

    it(`sends ${type} when ${toggle} is true`, async () => {
      const s = await setup({ [toggle]: true })
      await s.analytics.identify('a@example.com')
      await call(s)
      const requests = await sent(s.ns, s.plugin)
      // group becomes a segment request; the others an event row of their type.
      const sentAs =
        type === 'group'
          ? requests
              .filter((r) => r.path.includes('/segments/'))
              .flatMap((r) => r.body as string[][])
          : rowsOf(requests).filter((row) => row[1] === type)
      expect(sentAs).to.have.length(1)
    })
  }

  const offSwitches: [string, Record<string, boolean>][] = [
    ['{"Selligent Marketing Cloud": false}', { 'Selligent Marketing Cloud': false }],
    ['{All: false}', { All: false }],
  ]
  for (const [label, integrations] of offSwitches) {
    it(`is switched off per call by integrations ${label}`, async () => {
      const s = await setup()
      await s.analytics.track('Order Completed', {}, { integrations })
      await s.analytics.identify('u1', {}, { integrations })
      expect(await rowsAfter(s)).to.deep.equal([])
    })

    it(`is switched off at load by integrations ${label}`, async () => {
      const ns = namespace()
      const plugin = selligentPlugin(proxySettings(ns))
      const analytics = await loadAnalytics([plugin], { integrations })
      await analytics.identify('u1')
      await analytics.track('Order Completed')
      await plugin.flush()
      expect(await recorded(ns)).to.deep.equal([])
    })

    it(`honours integrations ${label} itself when a host calls its hooks directly`, async () => {
      const other = await loadAnalytics([])
      const ctx = await other.track('Order Completed', {}, { integrations })
      const ns = namespace()
      const plugin = selligentPlugin(proxySettings(ns))
      await plugin.load(ctx, other)
      expect(plugin.track?.(ctx)).to.equal(ctx)
      await plugin.flush()
      expect(await recorded(ns)).to.deep.equal([])
    })
  }

  it('stays on with {All: false, "Selligent Marketing Cloud": true}', async () => {
    const s = await setup()
    await s.analytics.track(
      'Order Completed',
      {},
      { integrations: { All: false, 'Selligent Marketing Cloud': true } },
    )
    expect(await rowsAfter(s)).to.have.length(1)
  })
})

describe('before load', () => {
  it('a call before load() that opens the transport: what an earlier page left is sent, and storage let go of', async () => {
    const ns = namespace()
    const storageKey = `selligent:acme:${ns}`
    const ours = (): string[] =>
      Object.keys(localStorage).filter((key) => key.startsWith(storageKey))
    leaveCrashedQueue(storageKey, EVENTS, [rowOf('left', 0)])
    const plugin = selligentPlugin({
      ...proxySettings(ns, { persist: true }),
      eventsDataListApiName: ns,
    })
    // A middleware that drops the call: counted as skipped, which opens the transport.
    plugin.addMiddleware(() => undefined)
    const other = await loadAnalytics([])
    await plugin.track?.(await other.track('Order Completed'))
    await until(async () => (await recorded(ns)).length === 1)
    await until(() => plugin.stats.sent === 1 && ours().length === 0)
    expect(plugin.stats.skipped).to.deep.equal({ middleware: 1 })
  })

  it('holds calls that arrive before load() has finished and sends them once it has', async () => {
    const other = await loadAnalytics([])
    const identify = await other.identify('early-bird')
    const track = await other.track('Order Completed')
    const ns = namespace()
    const plugin = selligentPlugin(proxySettings(ns))
    expect(plugin.identify?.(identify)).to.equal(identify)
    expect(plugin.track?.(track)).to.equal(track)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await recorded(ns)).to.deep.equal([])
    await plugin.load(identify, other)
    const rows = rowsOf(await sent(ns, plugin))
    expect(rows.map((row) => row[0])).to.deep.equal([
      identify.event.messageId,
      track.event.messageId,
    ])
  })
})
