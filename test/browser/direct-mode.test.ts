import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { selligentPlugin } from '../../src/index.js'
import { loadAnalytics, recorded } from './helpers.js'

// Its own file, so its own page: the "once per page" warning is not already spent by another test.
describe('direct mode', () => {
  afterEach(() => sinon.restore())

  const settings = () => ({
    organization: 'acme',
    allowedEvents: [],
    smcAdminUrl: location.origin,
    apiKey: 'the-key',
    apiSecret: 'the-secret',
    persist: false,
  })

  it('warns once per page that the secret is public', () => {
    const warn = sinon.stub(console, 'warn')
    selligentPlugin(settings())
    selligentPlugin(settings())
    const warnings = warn.args.flat().filter((m) => /"apiSecret" is public/.test(String(m)))
    expect(warnings).to.have.length(1)
  })

  it('sends to {smcAdminUrl}/Portal/Api with X-ApiKey key:secret and JSON', async () => {
    const plugin = selligentPlugin(settings())
    const analytics = await loadAnalytics([plugin])
    await analytics.identify('userId123')
    await plugin.flush()
    const [request] = await recorded('direct')
    expect(request?.method).to.equal('POST')
    expect(request?.path).to.equal('/organizations/acme/lists/segment_events/data/load')
    expect(request?.headers['x-apikey']).to.equal('the-key:the-secret')
    expect(request?.contentType).to.equal('application/json')
    expect((request?.body as string[][])[0]?.[3]).to.equal('userId123')
  })
})
