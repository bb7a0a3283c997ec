import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { selligentPlugin, type SelligentPlugin } from '../../src/index.js'
import { loadAnalytics, namespace, proxySettings, script, sent, setup, until } from './helpers.js'

const PREFIX = '[Selligent Marketing Cloud]'
const NOT_HANDED_OVER = 'integrations or middleware'
const LEVELS = ['debug', 'log', 'info', 'warn', 'error'] as const

/** Every console method stubbed, so a test sees each line the plugin writes and at what level. */
function captureConsole(): Record<(typeof LEVELS)[number], sinon.SinonStub> {
  return Object.fromEntries(LEVELS.map((level) => [level, sinon.stub(console, level)])) as never
}

/** The lines written at `level`, each as its arguments joined by spaces. */
const lines = (stub: sinon.SinonStub): string[] =>
  stub.args.map((args) => args.map((arg) => (typeof arg === 'string' ? arg : '…')).join(' '))

/** Flushes the plugin and waits until the server answered everything queued. */
async function settle(ns: string, plugin: SelligentPlugin): Promise<void> {
  await sent(ns, plugin)
  expect(plugin.stats.queued).to.equal(0)
}

describe('console logging (README, "Errors and stats")', () => {
  afterEach(() => sinon.restore())

  it('with debug, says why each skipped call was not sent, at a level Chrome shows by default', async () => {
    const log = captureConsole()
    const { ns, plugin, analytics } = await setup({ debug: true })
    await analytics.track('Product Viewed')
    await analytics.page('Home')
    await analytics.screen('Home')
    await analytics.alias('new-id')
    await analytics.group('Team')
    await analytics.track('Order Completed', {}, { integrations: { All: false } })
    await settle(ns, plugin)
    const skipped = lines(log.info).filter((line) => line.includes('not sent'))
    expect(skipped).to.deep.equal([
      `${PREFIX} track call not sent: not in allowedEvents …`,
      `${PREFIX} page call not sent: sendPageEvents off …`,
      `${PREFIX} screen call not sent: sendScreenEvents off …`,
      `${PREFIX} alias call not sent: sendAliasEvents off …`,
      `${PREFIX} group call not sent: sendGroupEvents off …`,
      `${PREFIX} track call not sent: ${NOT_HANDED_OVER} …`,
    ])
    // The skipped call itself goes along, for the console to unfold.
    expect(log.info.firstCall.args[3]).to.include({ type: 'track', event: 'Product Viewed' })
    expect(log.debug.called).to.equal(false)
  })

  it('with debug, names the calls a source middleware dropped', async () => {
    const log = captureConsole()
    const { ns, plugin, analytics } = await setup({ debug: true })
    await analytics.addSourceMiddleware(({ payload, next }) => {
      // A source middleware drops a call by not calling next.
      if (payload.obj.properties?.drop !== 'source') next(payload)
    })
    await analytics.track('Order Completed', { drop: 'source' })
    await analytics.track('Order Completed')
    await settle(ns, plugin)
    expect(plugin.stats.sent).to.equal(1)
    const skipped = log.info.args.filter((args) => String(args[1]).includes('not sent'))
    expect(skipped.map((args) => [args[2], args[3].properties.drop])).to.deep.equal([
      [NOT_HANDED_OVER, 'source'],
    ])
  })

  it('with debug, says why a group call it cannot map was not sent', async () => {
    const log = captureConsole()
    const { ns, plugin, analytics } = await setup({ debug: true, sendGroupEvents: true })
    await analytics.group('Team', { matchkey: 'MAIL', method: 'ADD', userlist: 'USERS' })
    await settle(ns, plugin)
    expect(lines(log.warn)).to.deep.equal([`${PREFIX} group call not sent: userId is missing`])
  })

  it('with debug, logs each request and its answer at a level Chrome shows by default', async () => {
    const log = captureConsole()
    const { ns, plugin, analytics } = await setup({ debug: true })
    await analytics.track('Order Completed')
    await settle(ns, plugin)
    const requests = log.info.args.filter((args) => args[1] === 'POST')
    expect(requests).to.have.length(1)
    expect(requests[0]?.[0]).to.equal(PREFIX)
    expect(requests[0]?.join(' ')).to.contain(`/rec/${ns}/organizations/acme/`)
    expect(log.debug.called).to.equal(false)
  })

  it('without debug, writes nothing for skipped calls or requests', async () => {
    const log = captureConsole()
    const { ns, plugin, analytics } = await setup()
    await analytics.track('Product Viewed')
    await analytics.page('Home')
    await analytics.track('Order Completed', {}, { integrations: { All: false } })
    await analytics.track('Order Completed')
    await settle(ns, plugin)
    expect(plugin.stats.sent).to.equal(1)
    for (const level of LEVELS) expect(log[level].args, level).to.deep.equal([])
  })

  it('starts every line with the one prefix: settings, storage, full queue, requests, skipped calls', async () => {
    const log = captureConsole()
    sinon.stub(window, 'localStorage').get(() => {
      throw new DOMException('denied', 'SecurityError')
    })
    const ns = namespace()
    const plugin = selligentPlugin({
      ...proxySettings(ns, { organization: ns, debug: true, persist: true, maxMemoryRows: 2 }),
      allowedEvent: ['typo'],
    } as never)
    const analytics = await loadAnalytics([plugin])
    await script(ns, [{ status: 422 }])
    await Promise.all([1, 2, 3, 4].map(() => analytics.track('Order Completed')))
    await analytics.page('Home')
    await until(async () => (await plugin.flush(), plugin.stats.queued === 0))
    const written = LEVELS.flatMap((level) => log[level].args)
    expect(written.length).to.be.greaterThan(5)
    for (const args of written) expect(args[0]).to.equal(PREFIX)
    const said = LEVELS.flatMap((level) => lines(log[level])).join('\n')
    for (const topic of ['not a setting', 'memory only', 'queue full', 'POST', 'not sent']) {
      expect(said).to.contain(topic)
    }
  })
})
