import { expect } from '@esm-bundle/chai'
import type { SelligentPlugin, SelligentSettings } from '../../src/index.js'
import { loadAnalytics, namespace, recorded, rowsOf, until } from './helpers.js'

// The browser tests load src/, where internal names read in full; the bundles that ship have them
// shortened by the build (docs/design.md#readable-names-shortened-by-the-build). Here the built
// ESM bundle delivers for real, and nothing of the shortening may show where a user or SMC can
// see it: the counters, the stored queue, the requests.

const BUNDLES = ['/dist/index.js', '/dist/selligent.iife.min.js']
const PUBLIC_STATS = [
  'queued',
  'memoryOnly',
  'sent',
  'requests',
  'splitRequests',
  'retried',
  'beaconed',
  'dropped',
  'skipped',
]

/** The internal names of a source text: property names ending in `_`. */
const internalNames = (source: string): string[] => [...new Set(source.match(/\b[A-Za-z]\w*_\b/g))]

/** Every source file a bundle was built from, by path (from its source map). */
async function sourcesOf(bundle: string): Promise<Map<string, string>> {
  const map = (await (await fetch(`${bundle}.map`)).json()) as {
    sources: string[]
    sourcesContent: string[]
  }
  return new Map(map.sources.map((path, i) => [path, map.sourcesContent[i] ?? '']))
}

/** Whether `value` is made of arrays, strings and numbers only: no object, so no property name. */
const plain = (value: unknown): boolean =>
  typeof value === 'string' ||
  typeof value === 'number' ||
  (Array.isArray(value) && value.every(plain))

describe('the built bundles (internal names shortened)', function () {
  this.timeout(20_000)

  it('contain none of the internal names their source files use', async () => {
    for (const bundle of BUNDLES) {
      const sources = await sourcesOf(bundle)
      const names = [...new Set([...sources.values()].flatMap(internalNames))]
      expect(names, 'the source uses the convention').to.include.members(['waiting_', 'take_'])
      const code = await (await fetch(bundle)).text()
      expect(
        names.filter((name) => new RegExp(`\\b${name}\\b`).test(code)),
        bundle,
      ).to.deep.equal([])
    }
  })

  it('share no internal name with the relay, which is built without shortening', async () => {
    const sources = await sourcesOf(BUNDLES[0]!)
    const shared = [...sources].filter(([path]) => path.includes('/src/smc/'))
    expect(shared.length).to.be.above(0)
    for (const [path, source] of shared) expect(internalNames(source), path).to.deep.equal([])
  })

  it('deliver, count and store with public names only', async () => {
    const { selligentPlugin } = (await import(`${location.origin}/dist/index.js`)) as {
      selligentPlugin: (settings: SelligentSettings) => SelligentPlugin
    }
    const ns = namespace()
    const plugin = selligentPlugin({
      organization: 'acme',
      allowedEvents: ['Order Completed'],
      proxyUrl: `/rec/${ns}`,
      eventsDataListApiName: ns,
      flushInterval: 60_000,
    })
    const analytics = await loadAnalytics([plugin])
    const prefix = `selligent:acme:${ns}/`
    await analytics.track('Order Completed', { total: 30, 'odd key_': 'é' })
    await analytics.identify('user-1', { plan: 'pro' })

    // Written for this tab (after the first change's delay), in the documented shape.
    const ours = (): string[] => Object.keys(localStorage).filter((key) => key.startsWith(prefix))
    await until(() => ours().length > 0)
    for (const key of ours()) {
      expect(key).to.match(/^selligent:acme:[\w-]+\/[0-9a-f-]{36}#\d{7}$/)
      const chunks = JSON.parse(localStorage.getItem(key) as string) as unknown[]
      expect(plain(chunks), key).to.equal(true)
    }

    await plugin.flush()
    await until(async () => rowsOf(await recorded(ns)).length === 2)
    const requests = await recorded(ns)
    for (const request of requests) {
      expect(Object.keys(request.query).sort()).to.deep.equal(['fields', 'keyFields'])
      expect(plain(request.body)).to.equal(true)
    }
    expect(rowsOf(requests).map((row) => row[1])).to.have.members(['track', 'identify'])
    // A key of the site's own data may end in `_`: data is never renamed.
    expect(rowsOf(requests).find((row) => row[1] === 'track')?.[6]).to.equal(
      '{"total":30,"odd key_":"é"}',
    )

    expect(Object.keys(plugin.stats).sort()).to.deep.equal([...PUBLIC_STATS].sort())
    expect(plugin.stats).to.include({ sent: 2, queued: 0, requests: 1 })
    // Delivered: the stored queue is gone.
    await until(() => ours().length === 0)
  })
})
