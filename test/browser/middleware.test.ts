// Destination middleware added with analytics-next's own addDestinationMiddleware
// (docs/design.md#destination-middleware), asserted on the wire.
import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { PLUGIN_NAME } from '../../src/index.js'
import { recorded, rowsOf, sent, setup, until, type Analytics } from './helpers.js'
import { sleep } from '../fixtures/frames.js'

/** A destination middleware as a site writes it, typed by analytics-next. */
type DestinationMiddleware = Parameters<Analytics['addDestinationMiddleware']>[1]

/** A stand-in hash: what matters is that the row carries the middleware's value. */
const hashOf = (text: string): string => `hash:${[...text].reverse().join('')}`

describe('destination middleware', function () {
  this.timeout(6000)
  afterEach(() => sinon.restore())

  it('a middleware that rewrites properties.email: the row carries the hash, other destinations the original', async () => {
    const { ns, plugin, analytics } = await setup()
    const hashEmail: DestinationMiddleware = async ({ payload, next }) => {
      await sleep(10) // async middlewares are awaited
      const properties = payload.obj.properties as { email: string }
      properties.email = hashOf(properties.email)
      next(payload)
    }
    await analytics.addDestinationMiddleware(PLUGIN_NAME, hashEmail)
    const ctx = await analytics.track('Order Completed', { email: 'ann@example.com' })
    const [row] = rowsOf(await sent(ns, plugin))
    expect(row?.[6]).to.equal(JSON.stringify({ email: hashOf('ann@example.com') }))
    // Each middleware changes a copy for this destination only.
    expect(ctx.event.properties).to.deep.equal({ email: 'ann@example.com' })
  })

  it('run in the order added, each on what the one before passed; the changed event is filtered and mapped', async () => {
    const { ns, plugin, analytics } = await setup()
    const seen: string[] = []
    const rename: DestinationMiddleware = ({ payload, next }) => {
      seen.push(`rename:${payload.obj.event}`)
      payload.obj.event = 'Order Completed'
      next(payload)
    }
    const tag: DestinationMiddleware = ({ payload, next }) => {
      seen.push(`tag:${payload.obj.event}`)
      payload.obj.properties = { ...payload.obj.properties, tagged: true }
      next(payload)
    }
    await analytics.addDestinationMiddleware('*', rename, tag)
    // Not in allowedEvents as called: sent because the middleware renamed it.
    await analytics.track('Checkout Done')
    const [row] = rowsOf(await sent(ns, plugin))
    expect(seen).to.deep.equal(['rename:Checkout Done', 'tag:Order Completed'])
    expect(row?.[2]).to.equal('Order Completed')
    expect(row?.[6]).to.equal('{"tagged":true}')
  })

  it('next(null), or next not called, drops the call; every kind of call goes through', async () => {
    const { ns, plugin, analytics } = await setup({ sendGroupEvents: true, sendAliasEvents: true })
    const types: string[] = []
    const dropAll: DestinationMiddleware = ({ payload, next }) => {
      types.push(payload.obj.type)
      if (payload.obj.type === 'group') return // next never called
      next(null)
    }
    await analytics.addDestinationMiddleware(PLUGIN_NAME, dropAll)
    await analytics.identify('ann')
    await analytics.track('Order Completed')
    await analytics.group('SEGMENT_A', { userlist: 'USERS', matchkey: 'MAIL' })
    await analytics.alias('ann-2')
    await plugin.flush()
    await sleep(100)
    expect(types).to.deep.equal(['identify', 'track', 'group', 'alias'])
    expect(await recorded(ns)).to.have.length(0)
    expect(plugin.stats.skipped).to.deep.equal({ middleware: 4 })
  })

  it('a middleware that throws drops that call only, reported once; the page sees nothing', async () => {
    const { ns, plugin, analytics } = await setup()
    const consoleError = sinon.spy(console, 'error')
    const pageErrors: unknown[] = []
    const onRejection = (event: PromiseRejectionEvent): void => void pageErrors.push(event.reason)
    addEventListener('unhandledrejection', onRejection)
    const failing: DestinationMiddleware = ({ payload, next }) => {
      if ((payload.obj.properties as { fail?: boolean }).fail) throw new Error('middleware bug')
      next(payload)
    }
    await analytics.addDestinationMiddleware(PLUGIN_NAME, failing)
    await analytics.track('Order Completed', { fail: true })
    await analytics.track('Order Completed', { fail: false })
    await until(async () => rowsOf(await recorded(ns)).length === 1)
    await sleep(100)
    removeEventListener('unhandledrejection', onRejection)
    const rows = rowsOf(await sent(ns, plugin))
    expect(rows.map((row) => row[6])).to.deep.equal(['{"fail":false}'])
    expect(pageErrors).to.deep.equal([])
    expect(plugin.stats.skipped).to.deep.equal({ middleware: 1 })
    const ours = consoleError.getCalls().filter((call) => String(call.args[1]).includes('threw'))
    expect(ours).to.have.length(1)
  })
})
