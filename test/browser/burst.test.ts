// A site's burst through the plugin: 10,000 calls handed to its hooks in one task. The plugin
// holds what the transport holds (docs/design.md#transport, "Bounds"): each call is delivered or
// its failure reaches that very call, before load() as after.
import { expect } from '@esm-bundle/chai'
import { selligentPlugin } from '../../src/index.js'
import {
  loadAnalytics,
  namespace,
  proxySettings,
  script,
  setup,
  type Analytics,
  type Context,
} from './helpers.js'
import { expectedIds, storedIds, waitFor } from '../fixtures/frames.js'

const BURST = 10_000

/**
 * `count` allowed track calls as analytics-next hands them to destinations: its own Context class
 * (its UMD build does not export it; a call's context is one), made at once rather than one per
 * task as analytics.track() would.
 */
async function calls(analytics: Analytics, ns: string, count: number): Promise<Context[]> {
  const Context = (await analytics.track('Not allowed')).constructor as new (
    event: object,
  ) => Context
  return Array.from(
    { length: count },
    (_, i) =>
      new Context({
        type: 'track',
        event: 'Order Completed',
        messageId: `${ns}-${i}`,
        anonymousId: 'anonymous-1',
        timestamp: new Date(),
        properties: { orderId: `o-${i}`, total: 42.5, currency: 'EUR' },
      }),
  )
}

describe('a burst of 10,000 calls in one task through the plugin', function () {
  this.timeout(30_000)

  it('reports a refused row on its own call, the 9,999 after it delivered', async () => {
    const { ns, plugin, analytics } = await setup()
    // SMC refuses the first call's row, the first of its request.
    const body = {
      result_code: 'PartiallySucceeded',
      invalid_records: [{ record_index: 0, validation_code: 'InvalidFieldCount' }],
    }
    await script(ns, [{ status: 200, body, bodyContains: `"${ns}-0"` }])
    const errors: { ctx?: Context }[] = []
    analytics.on('error', (error) => errors.push(error as { ctx?: Context }))
    const contexts = await calls(analytics, ns, BURST)
    for (const ctx of contexts) void plugin.track?.(ctx)
    await waitFor(() => plugin.stats.sent === BURST - 1 && !plugin.stats.queued, 20_000)
    expect(plugin.stats.dropped).to.deep.equal({ invalid: 1 })
    expect(String(contexts[0]?.failedDelivery()?.reason)).to.contain('InvalidFieldCount')
    expect(errors.map((error) => error.ctx)).to.deep.equal([contexts[0]])
    expect((await storedIds(ns)).length).to.equal(BURST)
  })

  it('holds the whole burst made before load() and delivers it once loaded', async () => {
    const ns = namespace()
    const analytics = await loadAnalytics([])
    const plugin = selligentPlugin(proxySettings(ns))
    for (const ctx of await calls(analytics, ns, BURST)) void plugin.track?.(ctx)
    expect(plugin.stats.queued).to.equal(BURST)
    await analytics.register(plugin)
    await waitFor(() => plugin.stats.sent === BURST, 20_000)
    expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, BURST))
  })
})
