// Storage writes and requests per 1,000 events in one burst, and the time a 10,000-event burst
// costs in the transport and in the plugin (real analytics-next, real server), with the default
// bounds (stored: 5,000 rows, 1,000,000 bytes; held: 15,000 rows, 15,000,000 bytes), one JSON
// line per case.
import sinon from 'sinon'
import { selligentPlugin } from '../src/index.js'
import { createTransport } from '../src/transport/createTransport.js'
import { loadAnalytics, namespace } from '../test/browser/helpers.js'
import { answered, clearStorage, waitFor } from '../test/fixtures/frames.js'
import { EVENTS, transportOptions } from '../test/fixtures/wire.js'

/** Counts and times localStorage writes of keys containing `ns`. */
function watchWrites(ns: string): { writes: () => number; ms: () => number } {
  let writes = 0
  let ms = 0
  const setItem = Storage.prototype.setItem
  sinon.stub(Storage.prototype, 'setItem').callsFake(function (this: Storage, key, value) {
    const start = performance.now()
    setItem.call(this, key, value)
    if (key.includes(ns)) {
      writes++
      ms += performance.now() - start
    }
  })
  return { writes: () => writes, ms: () => ms }
}

/** A track row of a realistic size (~600 bytes of JSON, as the plugin produces). */
const rowOf = (i: number): string[] => [
  `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  'track',
  'Order Completed',
  'user-123',
  'b2c6a9f0-6f2e-4a7e-9d35-8d1f2f1c3e4a',
  '',
  JSON.stringify({ orderId: `o-${i}`, total: 42.5, currency: 'EUR' }),
  JSON.stringify({
    page: {
      url: 'https://shop.example/checkout/complete',
      path: '/checkout/complete',
      title: 'Thank you',
    },
    userAgent: navigator.userAgent,
    locale: 'en-GB',
  }),
  new Date().toISOString(),
]

const figures: Record<string, string | number>[] = []

describe('transport burst benchmark', () => {
  afterEach(() => {
    sinon.restore()
    clearStorage('selligent')
  })
  after(() => {
    for (const figure of figures) console.log(JSON.stringify(figure))
  })

  for (const count of [1_000, 10_000]) {
    it(`transport: ${count} pushes in one task`, async () => {
      const ns = namespace()
      const storage = watchWrites(ns)
      const transport = createTransport(
        transportOptions(ns, { flushInterval: 1000, storageKey: `selligent:bench:${ns}` }),
      )
      const rows = Array.from({ length: count }, (_, i) => rowOf(i))
      const start = performance.now()
      for (let i = 0; i < count; i++) transport.push(EVENTS, rows[i] ?? [], String(i))
      const pushMs = performance.now() - start
      await waitFor(() => !transport.stats.queued, 55_000)
      await new Promise((resolve) => setTimeout(resolve, 300))
      const requests = (await answered(ns)).length
      figures.push({
        case: `transport, ${count} in one task`,
        'push loop ms': pushMs.toFixed(1),
        'storage writes': storage.writes(),
        'writes per 1,000': ((storage.writes() * 1000) / count).toFixed(1),
        'write ms total': storage.ms().toFixed(1),
        requests,
        'requests per 1,000': ((requests * 1000) / count).toFixed(1),
        'delivered after ms': (performance.now() - start).toFixed(0),
        sent: transport.stats.sent,
        'dropped (overflow)': transport.stats.dropped.overflow ?? 0,
      })
      transport.close()
    })
  }

  for (const count of [1_000, 10_000]) {
    it(`plugin: ${count} allowed tracks in one task through analytics-next`, async () => {
      const ns = namespace()
      const storage = watchWrites(ns)
      const plugin = selligentPlugin({
        organization: 'acme',
        allowedEvents: ['Order Completed'],
        proxyUrl: `/rec/${ns}`,
        eventsDataListApiName: ns,
      })
      const analytics = await loadAnalytics([plugin])
      let pluginMs = 0
      const track = plugin.track?.bind(plugin)
      plugin.track = (ctx) => {
        const start = performance.now()
        const result = track?.(ctx) ?? ctx
        pluginMs += performance.now() - start
        return result
      }
      const start = performance.now()
      const calls = Array.from({ length: count }, (_, i) =>
        analytics.track('Order Completed', { orderId: `o-${i}`, total: 42.5, currency: 'EUR' }),
      )
      await Promise.all(calls)
      const handledMs = performance.now() - start
      await waitFor(() => !plugin.stats.queued, 55_000)
      await new Promise((resolve) => setTimeout(resolve, 300))
      const requests = (await answered(ns)).length
      figures.push({
        case: `plugin, ${count} tracks`,
        'plugin code ms': (pluginMs + storage.ms()).toFixed(1),
        'storage writes': storage.writes(),
        'writes per 1,000': ((storage.writes() * 1000) / count).toFixed(1),
        'write ms total': storage.ms().toFixed(1),
        requests,
        'requests per 1,000': ((requests * 1000) / count).toFixed(1),
        'analytics-next handled all ms': handledMs.toFixed(0),
        'delivered after ms': (performance.now() - start).toFixed(0),
        sent: plugin.stats.sent,
        'dropped (overflow)': plugin.stats.dropped.overflow ?? 0,
      })
    })
  }
})
