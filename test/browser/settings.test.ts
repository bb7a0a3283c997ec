import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { selligentPlugin, validateSettings, type SelligentSettings } from '../../src/index.js'
import { loadAnalytics, namespace, proxySettings, recorded } from './helpers.js'

type Raw = Record<string, unknown>
const valid = (extra: Raw = {}): Raw => ({
  organization: 'acme',
  allowedEvents: ['Order Completed'],
  proxyUrl: '/smc',
  ...extra,
})
const direct = (extra: Raw = {}): Raw => ({
  organization: 'acme',
  allowedEvents: [],
  smcAdminUrl: 'https://acme.slgnt.us',
  apiKey: 'key',
  apiSecret: 'secret',
  ...extra,
})

describe('settings', () => {
  afterEach(() => sinon.restore())

  const problems: [string, Raw, RegExp][] = [
    [
      'settings that are not an object',
      'nope' as unknown as Raw,
      /"settings" must be an object; got "nope"/,
    ],
    ['a missing organization', valid({ organization: undefined }), /"organization" is required/],
    [
      'an empty organization',
      valid({ organization: ' ' }),
      /"organization" must be a non-empty string; got " "/,
    ],
    ['a missing allowedEvents', valid({ allowedEvents: undefined }), /"allowedEvents" is required/],
    [
      'allowedEvents as a string',
      valid({ allowedEvents: 'Order Completed' }),
      /"allowedEvents" must be an array/,
    ],
    [
      'allowedEvents with a number',
      valid({ allowedEvents: ['a', 1] }),
      /"allowedEvents" must be an array of event names/,
    ],
    [
      'an unsafe eventsDataListApiName',
      valid({ eventsDataListApiName: 'a/b' }),
      /"eventsDataListApiName" must be an api name \(\[A-Za-z0-9_-\]\); got "a\/b"/,
    ],
    [
      'a toggle that is not a boolean',
      valid({ sendPageEvents: 'yes' }),
      /"sendPageEvents" must be true or false; got "yes"/,
    ],
    [
      'a proxyUrl that is neither a path nor https',
      valid({ proxyUrl: 'ftp://x' }),
      /"proxyUrl" must be a path like "\/smc" or an https URL; got "ftp:\/\/x"/,
    ],
    [
      'a plain-http proxyUrl to a remote host',
      valid({ proxyUrl: 'http://relay.example.com' }),
      /"proxyUrl" must be/,
    ],
    [
      'direct mode without smcAdminUrl',
      direct({ smcAdminUrl: undefined }),
      /"smcAdminUrl" is required/,
    ],
    ['direct mode without apiKey', direct({ apiKey: undefined }), /"apiKey" is required/],
    ['direct mode without apiSecret', direct({ apiSecret: undefined }), /"apiSecret" is required/],
    [
      'direct mode over plain http to a remote host',
      direct({ smcAdminUrl: 'http://acme.slgnt.us' }),
      /"smcAdminUrl" must be an https URL \(http only for localhost\); got "http:\/\/acme.slgnt.us"/,
    ],
    [
      'a column that is not standard',
      valid({ columns: { EVENT: 'X' } }),
      /"columns.EVENT" must be one of EVENT_ID,EVENT_TYPE,.*; got "EVENT"/,
    ],
    [
      'EVENT_ID dropped',
      valid({ columns: { EVENT_ID: null } }),
      /"columns.EVENT_ID" must be an SMC field name used once \(it cannot be dropped\); got null/,
    ],
    [
      'a column renamed to an unsafe name',
      valid({ columns: { PROPERTIES: 'a,b' } }),
      /"columns.PROPERTIES" must be an SMC field name used once, or null; got "a,b"/,
    ],
    [
      'two columns with one name',
      valid({ columns: { PROPERTIES: 'CONTEXT' } }),
      /"columns.CONTEXT" must be an SMC field name used once, or null; got "CONTEXT"/,
    ],
    ['a batchSize of 0', valid({ batchSize: 0 }), /"batchSize" must be a positive integer; got 0/],
    [
      'a negative flushInterval',
      valid({ flushInterval: -1 }),
      /"flushInterval" must be a number ≥ 0 \(ms\); got -1/,
    ],
    [
      'a fractional maxQueueRows',
      valid({ maxQueueRows: 1.5 }),
      /"maxQueueRows" must be a positive integer; got 1.5/,
    ],
    [
      'a string maxQueueBytes',
      valid({ maxQueueBytes: '1MB' }),
      /"maxQueueBytes" must be a positive integer; got "1MB"/,
    ],
    [
      'a maxMemoryRows of 0',
      valid({ maxMemoryRows: 0 }),
      /"maxMemoryRows" must be a positive integer; got 0/,
    ],
    [
      'a negative maxMemoryBytes',
      valid({ maxMemoryBytes: -1 }),
      /"maxMemoryBytes" must be a positive integer; got -1/,
    ],
    [
      'a maxAttempts of Infinity',
      valid({ maxAttempts: Infinity }),
      /"maxAttempts" must be a positive integer; got null/,
    ],
    [
      'persist that is not a boolean',
      valid({ persist: 1 }),
      /"persist" must be true or false; got 1/,
    ],
    [
      'debug that is not a boolean',
      valid({ debug: 'on' }),
      /"debug" must be true or false; got "on"/,
    ],
  ]
  for (const [what, settings, message] of problems) {
    it(`reports ${what}`, () => {
      expect(validateSettings(settings).join('\n')).to.match(message)
    })
  }

  it('accepts proxy mode with a path or an https URL', () => {
    expect(validateSettings(valid())).to.deep.equal([])
    expect(validateSettings(valid({ proxyUrl: 'https://relay.example.com/smc/' }))).to.deep.equal(
      [],
    )
  })

  it('accepts direct mode over https, and plain http on loopback hosts', () => {
    for (const smcAdminUrl of [
      'https://acme.slgnt.us',
      'http://localhost:8080',
      'http://127.0.0.1',
      'http://[::1]:9000',
    ]) {
      expect(validateSettings(direct({ smcAdminUrl })), smcAdminUrl).to.deep.equal([])
    }
  })

  it('never echoes the api key or secret in a problem', () => {
    const messages = validateSettings(direct({ apiKey: 42, apiSecret: ['s3cr3t-value'] })).join(
      '\n',
    )
    expect(messages).to.match(/"apiSecret" must be a non-empty string/)
    expect(messages).not.to.contain('s3cr3t-value')
  })

  it('names every problem in the one error load() rejects with', async () => {
    const plugin = selligentPlugin({
      allowedEvents: 'x',
      batchSize: -2,
    } as unknown as SelligentSettings)
    const error = await plugin.load({} as never, {} as never).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error?.name).to.equal('SettingsError')
    for (const part of [
      '"organization" is required',
      '"allowedEvents" must be',
      '"batchSize" must be',
      '"proxyUrl" is required',
    ]) {
      expect(error?.message).to.contain(part)
    }
    expect(validateSettings({ allowedEvents: 'x', batchSize: -2 })).to.deep.equal(
      (error as unknown as { problems: string[] }).problems,
    )
  })

  it('with invalid settings, sends nothing and throws nothing into the page', async () => {
    const ns = namespace()
    const warn = sinon.stub(console, 'warn')
    const plugin = selligentPlugin(proxySettings(ns, { organization: '' }))
    const analytics = await loadAnalytics([plugin])
    await analytics.identify('u1')
    await analytics.track('Order Completed')
    await plugin.flush()
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect(plugin.isLoaded()).to.equal(false)
    expect(await recorded(ns)).to.deep.equal([])
    expect(warn.args.flat().map(String).join('\n')).to.contain(
      '"organization" must be a non-empty string',
    )
  })

  it('warns about an unknown key (a likely typo)', () => {
    const warn = sinon.stub(console, 'warn')
    selligentPlugin(valid({ allowedEvent: ['x'] }) as unknown as SelligentSettings)
    expect(warn.args.flat().join('\n')).to.contain('"allowedEvent" is not a setting (a typo?)')
  })

  it('warns to remove apiSecret when proxyUrl is set, and never sends it', async () => {
    const warn = sinon.stub(console, 'warn')
    const ns = namespace()
    // The types refuse both modes at once; untyped callers (plain JS, the script tag) can.
    const both = {
      apiKey: 'the-key',
      apiSecret: 'the-secret',
      smcAdminUrl: 'https://acme.slgnt.us',
    }
    const plugin = selligentPlugin({
      ...proxySettings(ns),
      ...both,
    } as unknown as SelligentSettings)
    const analytics = await loadAnalytics([plugin])
    await analytics.identify('u1')
    await plugin.flush()
    const warnings = warn.args.flat().join('\n')
    expect(warnings).to.contain('"apiSecret" is ignored with "proxyUrl"')
    expect(warnings).to.contain('"apiSecret" is public: every visitor can read it')
    const [request] = await recorded(ns)
    expect(request?.path).to.equal('/organizations/acme/lists/segment_events/data/load')
    expect(JSON.stringify(request)).not.to.match(/the-secret|the-key/)
  })
})
