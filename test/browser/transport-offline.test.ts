import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { createTransport } from '../../src/transport/createTransport.js'
import { namespace } from './helpers.js'
import { answered, expectedIds, sleep, storedIds, waitFor } from '../fixtures/frames.js'
import { EVENTS, rowOf, transportOptions } from '../fixtures/wire.js'

describe('transport: offline', () => {
  afterEach(() => sinon.restore())

  it('holds rows while the browser is offline and sends them on `online`', async () => {
    const ns = namespace()
    let online = false
    sinon.stub(Navigator.prototype, 'onLine').get(() => online)
    const transport = createTransport(transportOptions(ns, { batchSize: 2, maxAttempts: 1 }))
    for (let i = 0; i < 5; i++) transport.push(EVENTS, rowOf(ns, i), `${ns}-${i}`)
    await transport.flush()
    await sleep(150)
    expect(await answered(ns)).to.deep.equal([])
    expect(transport.stats.queued).to.equal(5)
    online = true
    dispatchEvent(new Event('online'))
    await waitFor(() => transport.stats.sent === 5, 1000)
    expect((await storedIds(ns)).sort()).to.deep.equal(expectedIds(ns, 5))
    transport.close()
  })
})
