import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { selligentPlugin } from '../../src/index.js'
import { loadAnalytics, namespace, proxySettings, rowsOf, sent, setup } from './helpers.js'

const FIELDS =
  'EVENT_ID,EVENT_TYPE,EVENT_NAME,USER_ID,ANONYMOUS_ID,PREVIOUS_ID,PROPERTIES,CONTEXT,TIMESTAMP'
const ALL_ON = {
  sendAliasEvents: true,
  sendGroupEvents: true,
  sendPageEvents: true,
  sendScreenEvents: true,
}

describe('mapping to SMC rows (docs/design.md#event-rows)', () => {
  afterEach(() => sinon.restore())

  it('sends identify as one event row to the events data list, cell by cell', async () => {
    const { ns, plugin, analytics } = await setup()
    const ctx = await analytics.identify('userId123', {
      property1: 1,
      property2: 'test',
      property3: true,
    })
    const [request, ...others] = await sent(ns, plugin)
    expect(others).to.deep.equal([])
    expect(request?.method).to.equal('POST')
    expect(request?.path).to.equal('/organizations/acme/lists/segment_events/data/load')
    expect(request?.query).to.deep.equal({ keyFields: 'EVENT_ID', fields: FIELDS })
    const [row] = request?.body as string[][]
    const [id, type, name, userId, anonymousId, previousId, properties, context, timestamp] =
      row ?? []
    expect(id).to.equal(ctx.event.messageId)
    expect(type).to.equal('identify')
    expect(name).to.equal('')
    expect(userId).to.equal('userId123')
    expect(anonymousId).to.equal(analytics.user().anonymousId())
    expect(previousId).to.equal('')
    expect(JSON.parse(properties ?? '')).to.deep.equal({
      property1: 1,
      property2: 'test',
      property3: true,
    })
    expect(JSON.parse(context ?? '')).to.include.keys('page', 'userAgent', 'locale')
    expect(JSON.parse(context ?? '').page.url).to.equal(location.href)
    expect(timestamp).to.equal(new Date(ctx.event.timestamp as Date).toISOString())
  })

  it('sends proxy-mode requests CORS-simple: text/plain and no credentials', async () => {
    const { ns, plugin, analytics } = await setup()
    await analytics.identify('userId123')
    const [request] = await sent(ns, plugin)
    expect(request?.contentType).to.equal('text/plain')
    expect(request?.headers).not.to.have.any.keys('x-apikey', 'authorization', 'cookie')
  })

  it('sends every cell as a string', async () => {
    const { ns, plugin, analytics } = await setup(ALL_ON)
    await analytics.identify('u1', { n: 1 })
    await analytics.track('Order Completed', { total: 9.5 })
    await analytics.page('Home')
    await analytics.screen('Home', { 'Feed Type': 'private' })
    await analytics.alias('507f191e81')
    const rows = rowsOf(await sent(ns, plugin))
    expect(rows).to.have.length(5)
    for (const row of rows) {
      expect(row).to.have.length(9)
      for (const cell of row) expect(cell).to.be.a('string')
    }
  })

  it('sends an allowed track with its name and properties', async () => {
    const { ns, plugin, analytics } = await setup()
    await analytics.track('Order Completed', { property1: 1, property2: 'test', property3: true })
    const [row] = rowsOf(await sent(ns, plugin))
    expect(row?.slice(1, 3)).to.deep.equal(['track', 'Order Completed'])
    expect(JSON.parse(row?.[6] ?? '')).to.deep.equal({
      property1: 1,
      property2: 'test',
      property3: true,
    })
  })

  it('sends page("Home") with its name and the page properties', async () => {
    const { ns, plugin, analytics } = await setup({ sendPageEvents: true })
    await analytics.page('Home')
    const [row] = rowsOf(await sent(ns, plugin))
    expect(row?.slice(1, 3)).to.deep.equal(['page', 'Home'])
    expect(JSON.parse(row?.[6] ?? '')).to.include({ name: 'Home', url: location.href })
  })

  it('sends page category inside PROPERTIES', async () => {
    const { ns, plugin, analytics } = await setup({ sendPageEvents: true })
    await analytics.page('Docs', 'Install')
    const [row] = rowsOf(await sent(ns, plugin))
    expect(row?.[2]).to.equal('Install')
    expect(JSON.parse(row?.[6] ?? '')).to.include({ category: 'Docs' })
  })

  it('sends screen("Home", {"Feed Type": "private"}) with its name and properties', async () => {
    const { ns, plugin, analytics } = await setup({ sendScreenEvents: true })
    await analytics.screen('Home', { 'Feed Type': 'private' })
    const [row] = rowsOf(await sent(ns, plugin))
    expect(row?.slice(1, 3)).to.deep.equal(['screen', 'Home'])
    expect(JSON.parse(row?.[6] ?? '')).to.deep.equal({ 'Feed Type': 'private' })
  })

  it('sends alias("507f191e81") of an anonymous visitor: new id, previous = anonymousId', async () => {
    const { ns, plugin, analytics } = await setup({ sendAliasEvents: true })
    await analytics.alias('507f191e81')
    const [row] = rowsOf(await sent(ns, plugin))
    expect(row?.slice(1, 6)).to.deep.equal([
      'alias',
      '',
      '507f191e81',
      analytics.user().anonymousId(),
      analytics.user().anonymousId(),
    ])
  })

  it('sends alias("507f191e81") after identify: new id, previous = the identified id', async () => {
    const { ns, plugin, analytics } = await setup({ sendAliasEvents: true })
    await analytics.identify('userId123')
    await analytics.alias('507f191e81')
    const rows = rowsOf(await sent(ns, plugin))
    const alias = rows.find((row) => row[1] === 'alias')
    expect(alias?.[3]).to.equal('507f191e81')
    expect(alias?.[5]).to.equal('userId123')
  })

  it('sends alias(to, from) with the previous id it was given', async () => {
    const { ns, plugin, analytics } = await setup({ sendAliasEvents: true })
    await analytics.identify('userId123')
    await analytics.alias('507f191e81', 'legacy-42')
    const alias = rowsOf(await sent(ns, plugin)).find((row) => row[1] === 'alias')
    expect([alias?.[3], alias?.[5]]).to.deep.equal(['507f191e81', 'legacy-42'])
  })

  it('coalesces rows of one target into one request', async () => {
    const { ns, plugin, analytics } = await setup()
    await analytics.identify('u1')
    await analytics.track('Order Completed')
    await analytics.track('Order Completed')
    const requests = await sent(ns, plugin)
    expect(requests).to.have.length(1)
    expect(requests[0]?.body).to.have.length(3)
  })

  it('renames and drops columns through the columns setting', async () => {
    const { ns, plugin, analytics } = await setup({
      columns: { EVENT_ID: 'MSG_ID', CONTEXT: null, TIMESTAMP: null, PROPERTIES: 'PROPS' },
    })
    await analytics.identify('u1', { a: 1 })
    const [request] = await sent(ns, plugin)
    expect(request?.query).to.deep.equal({
      keyFields: 'MSG_ID',
      fields: 'MSG_ID,EVENT_TYPE,EVENT_NAME,USER_ID,ANONYMOUS_ID,PREVIOUS_ID,PROPS',
    })
    const [row] = request?.body as string[][]
    expect(row).to.have.length(7)
    expect(row?.[6]).to.equal('{"a":1}')
  })

  it('uses the eventsDataListApiName setting in the path', async () => {
    const { ns, plugin, analytics } = await setup({ eventsDataListApiName: 'web_events' })
    await analytics.identify('u1')
    const [request] = await sent(ns, plugin)
    expect(request?.path).to.equal('/organizations/acme/lists/web_events/data/load')
  })

  it('URI-encodes the organization in the path', async () => {
    const { ns, plugin, analytics } = await setup({ organization: 'acme corp/eu' })
    await analytics.identify('u1')
    const [request] = await sent(ns, plugin)
    expect(request?.path).to.equal('/organizations/acme%20corp%2Feu/lists/segment_events/data/load')
  })

  it('never mutates ctx.event and returns the ctx it was given at once', async () => {
    const ns = namespace()
    const plugin = selligentPlugin(proxySettings(ns, ALL_ON))
    const seen: [string, string, unknown][] = []
    for (const type of ['identify', 'track', 'page', 'screen', 'alias', 'group'] as const) {
      const hook = plugin[type]?.bind(plugin)
      plugin[type] = (ctx) => {
        const before = JSON.stringify(ctx.event)
        const result = hook?.(ctx)
        seen.push([before, JSON.stringify(ctx.event), result === ctx])
        return ctx
      }
    }
    const analytics = await loadAnalytics([plugin])
    await analytics.identify('u1', { circular: { a: 1 } })
    await analytics.track('Order Completed', { items: [{ sku: 'a' }] })
    await analytics.page('Home')
    await analytics.screen('Home', { 'Feed Type': 'private' })
    await analytics.alias('507f191e81')
    await analytics.group('G1', { matchkey: 'MAIL', userlist: 'USERS' })
    await plugin.flush()
    expect(seen).to.have.length(6)
    for (const [before, after, same] of seen) {
      expect(after).to.equal(before)
      expect(same).to.equal(true)
    }
  })
})

describe('group → static segment (docs/design.md#group-calls)', () => {
  afterEach(() => sinon.restore())

  const groupTraits = { matchkey: 'MAIL', method: 'ADD', userlist: 'USERS_SEGMENT' }

  it('sends the documented ADD call as a segment data load', async () => {
    const { ns, plugin, analytics } = await setup({ sendGroupEvents: true })
    await analytics.identify('segmenttest@selligent.com')
    await analytics.group('SegmentToSMCStatic', groupTraits)
    const requests = (await sent(ns, plugin)).filter((r) => r.path.includes('/segments/'))
    expect(requests).to.have.length(1)
    expect(requests[0]?.method).to.equal('POST')
    expect(requests[0]?.path).to.equal(
      '/organizations/acme/lists/USERS_SEGMENT/segments/SegmentToSMCStatic/data/load',
    )
    expect(requests[0]?.query).to.deep.equal({ keyFields: 'MAIL', fields: 'MAIL' })
    expect(requests[0]?.body).to.deep.equal([['segmenttest@selligent.com']])
  })

  it('sends the REMOVE twin as a DELETE of segment data', async () => {
    const { ns, plugin, analytics } = await setup({ sendGroupEvents: true })
    await analytics.identify('segmenttest@selligent.com')
    await analytics.group('SegmentToSMCStatic', { ...groupTraits, method: 'REMOVE' })
    const [request] = (await sent(ns, plugin)).filter((r) => r.path.includes('/segments/'))
    expect(request?.method).to.equal('DELETE')
    expect(request?.path).to.equal(
      '/organizations/acme/lists/USERS_SEGMENT/segments/SegmentToSMCStatic/data',
    )
    expect(request?.query).to.deep.equal({ keyFields: 'MAIL', fields: 'MAIL' })
    expect(request?.body).to.deep.equal([['segmenttest@selligent.com']])
  })

  it('defaults the method to ADD and reads it case-insensitively', async () => {
    const { ns, plugin, analytics } = await setup({ sendGroupEvents: true })
    await analytics.identify('a@example.com')
    await analytics.group('S1', { matchkey: 'MAIL', userlist: 'USERS' })
    await analytics.group('S2', { matchkey: 'MAIL', userlist: 'USERS', method: 'remove' })
    const segments = (await sent(ns, plugin)).filter((r) => r.path.includes('/segments/'))
    expect(segments.map((r) => `${r.method} ${r.path}`)).to.have.members([
      'POST /organizations/acme/lists/USERS/segments/S1/data/load',
      'DELETE /organizations/acme/lists/USERS/segments/S2/data',
    ])
  })

  const invalid: [string, Record<string, unknown>, boolean, RegExp][] = [
    [
      'matchkey is missing',
      { userlist: 'USERS' },
      true,
      /traits\.matchkey must be an SMC api name; got ""/,
    ],
    [
      'userlist is missing',
      { matchkey: 'MAIL' },
      true,
      /traits\.userlist must be an SMC api name; got ""/,
    ],
    ['userId is missing', groupTraits, false, /userId is missing/],
    [
      'the method is unknown',
      { ...groupTraits, method: 'UPSERT' },
      true,
      /traits\.method must be ADD or REMOVE; got "UPSERT"/,
    ],
    [
      'userlist is not an api name',
      { ...groupTraits, userlist: '../admin' },
      true,
      /traits\.userlist must be an SMC api name; got "..\/admin"/,
    ],
    [
      'matchkey is not an api name',
      { ...groupTraits, matchkey: 'MAIL&x=1' },
      true,
      /traits\.matchkey must be an SMC api name; got "MAIL&x=1"/,
    ],
  ]
  for (const [why, traits, identified, reason] of invalid) {
    it(`does not send a group call when ${why}, and logs the reason`, async () => {
      const { ns, plugin, analytics } = await setup({ sendGroupEvents: true })
      if (identified) await analytics.identify('a@example.com')
      const ctx = await analytics.group('SegmentToSMCStatic', traits)
      const segments = (await sent(ns, plugin)).filter((r) => r.path.includes('/segments/'))
      expect(segments).to.deep.equal([])
      expect(
        ctx
          .logs()
          .map((log) => log.message)
          .join('\n'),
      ).to.match(reason)
    })
  }

  it('does not send a group call whose groupId is not an api name', async () => {
    const { ns, plugin, analytics } = await setup({ sendGroupEvents: true })
    await analytics.identify('a@example.com')
    const ctx = await analytics.group('Segment To SMC', groupTraits)
    expect((await sent(ns, plugin)).filter((r) => r.path.includes('/segments/'))).to.deep.equal([])
    expect(
      ctx
        .logs()
        .map((log) => log.message)
        .join('\n'),
    ).to.match(/groupId must be an SMC api name; got "Segment To SMC"/)
  })

  it('logs the reason to the console in debug mode', async () => {
    const warn = sinon.stub(console, 'warn')
    const { analytics } = await setup({ sendGroupEvents: true, debug: true })
    await analytics.group('SegmentToSMCStatic', groupTraits)
    expect(warn.args.flat().join('\n')).to.match(/group call not sent: userId is missing/)
  })
})
