import { expect } from '@esm-bundle/chai'
import { PLUGIN_NAME } from '../../src/index.js'
import { recorded, rowsOf, setup } from './helpers.js'

describe('consent withdrawn (docs/consent.md)', () => {
  it('a deregistered plugin sends no call made after it, even one still running as the page leaves', async () => {
    const { ns, plugin, analytics } = await setup()
    // The control: a call made while registered arrives.
    await analytics.track('Order Completed', { consent: 'given' })
    await plugin.flush()
    expect(rowsOf(await recorded(ns))).to.have.length(1)
    await analytics.deregister(PLUGIN_NAME)
    const started = new Promise((resolve) => analytics.once('dispatch_start', resolve))
    const call = analytics.track('Order Completed')
    await started
    // The page leaves while analytics-next still runs the call, as on a click that navigates.
    dispatchEvent(new PageTransitionEvent('pagehide'))
    await call
    await plugin.flush()
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(rowsOf(await recorded(ns))).to.have.length(1)
  })
})
