import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { selligentPlugin } from '../../src/index.js'
import { loadAnalytics, recorded, script, until } from './helpers.js'

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

  describe("SMC's verdict, read by the browser itself (docs/design.md#verdicts)", function () {
    this.timeout(8000)
    beforeEach(() => fetch('/__rec/direct/reset', { method: 'POST' }))

    /** A load answer as SMC gives it; `failed` counts failures, `listed` lists some of them. */
    const model = (resultCode: string, failed = 0, listed: number[] = []) => ({
      result_code: resultCode,
      errors: null,
      number_of_inserted_records: 0,
      number_of_updated_records: 0,
      number_of_failed_records: failed,
      number_of_duplicate_records: 0,
      number_of_records_not_found: 0,
      number_of_deleted_records: 0,
      invalid_records: listed.map((record_index) => ({
        record_index,
        field_name: 'EVENT_TYPE',
        message: 'Length of string exceeds maximum field length',
        validation_code: 'MaxStringLengthExceeded',
      })),
    })

    /** Three identify calls sent in one request, then the answers SMC gave, in order. */
    async function sendThree(answers: Parameters<typeof script>[1]) {
      await script('direct', answers)
      const plugin = selligentPlugin({ ...settings(), flushInterval: 20 })
      const analytics = await loadAnalytics([plugin])
      await Promise.all(['u-0', 'u-1', 'u-2'].map((id) => analytics.identify(id)))
      await plugin.flush()
      return plugin
    }
    /** The USER_ID cells of each request SMC received. */
    const usersPerRequest = async () =>
      (await recorded('direct')).map((request) => (request.body as string[][]).map((row) => row[3]))

    for (const resultCode of ['ServiceUnavailable', 'InternalServerError', 'NotFound']) {
      it(`HTTP 200 ${resultCode}: nothing delivered, every row sent again`, async () => {
        const plugin = await sendThree([
          { status: 200, body: model(resultCode, 3) },
          { status: 200 },
        ])
        await until(() => plugin.stats.sent === 3)
        expect(await usersPerRequest()).to.deep.equal([
          ['u-0', 'u-1', 'u-2'],
          ['u-0', 'u-1', 'u-2'],
        ])
        expect(plugin.stats.dropped).to.deep.equal({})
      })
    }

    it('HTTP 404 (a list or segment SMC does not know): the rows wait and are sent again', async () => {
      const plugin = await sendThree([
        { status: 404, body: 'No HTTP resource was found' },
        { status: 200 },
      ])
      await until(() => plugin.stats.sent === 3)
      expect((await usersPerRequest()).length).to.equal(2)
      expect(plugin.stats.dropped).to.deep.equal({})
    })

    it('more failures counted than listed: the listed row is dropped, the others sent again', async () => {
      const plugin = await sendThree([
        { status: 200, body: model('PartiallySucceeded', 3, [1]) },
        { status: 200 },
      ])
      await until(() => plugin.stats.sent === 2)
      expect(await usersPerRequest()).to.deep.equal([
        ['u-0', 'u-1', 'u-2'],
        ['u-0', 'u-2'],
      ])
      expect(plugin.stats.dropped).to.deep.equal({ invalid: 1 })
      expect(plugin.stats.retried).to.equal(2)
    })

    it('HTTP 200 Failed listing one row: that row is dropped, the others, not stored, sent again', async () => {
      const plugin = await sendThree([
        { status: 200, body: model('Failed', 1, [2]) },
        { status: 200 },
      ])
      await until(() => plugin.stats.sent === 2)
      expect(await usersPerRequest()).to.deep.equal([
        ['u-0', 'u-1', 'u-2'],
        ['u-0', 'u-1'],
      ])
      expect(plugin.stats.dropped).to.deep.equal({ invalid: 1 })
    })

    it('HTTP 200 Failed listing no row: the request is refused as a whole', async () => {
      const plugin = await sendThree([{ status: 200, body: model('Failed', 3) }])
      await until(() => plugin.stats.dropped.rejected === 3)
      expect(plugin.stats.sent).to.equal(0)
      expect((await usersPerRequest()).length).to.equal(1)
    })

    it('counts that match the list: delivered but the listed row, nothing sent again', async () => {
      const plugin = await sendThree([{ status: 200, body: model('PartiallySucceeded', 1, [0]) }])
      await until(() => plugin.stats.sent === 2)
      expect(plugin.stats.dropped).to.deep.equal({ invalid: 1 })
      expect((await usersPerRequest()).length).to.equal(1)
    })
  })
})
