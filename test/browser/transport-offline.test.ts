import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { namespace } from './helpers.js'
import { answered, expectedIds, sleep, storedIds, waitFor } from '../fixtures/frames.js'
import { closeTransports, transportFor } from '../fixtures/transports.js'

describe('transport: offline', () => {
  afterEach(() => {
    closeTransports()
    sinon.restore()
  })

  it('holds rows while the browser is offline and sends them on `online`', async () => {
    const ns = namespace()
    let online = false
    sinon.stub(Navigator.prototype, 'onLine').get(() => online)
    const { transport, push } = transportFor(ns, { batchSize: 2, maxAttempts: 1 })
    push(5)
    await transport.flush()
    await sleep(150)
    expect(await answered(ns)).to.deep.equal([])
    expect(transport.stats.queued).to.equal(5)
    online = true
    dispatchEvent(new Event('online'))
    await waitFor(() => transport.stats.sent === 5, 1000)
    expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, 5))
  })
})
