import { expect } from '@esm-bundle/chai'
import sinon from 'sinon'
import { rowsOf, sent, setup } from './helpers.js'

/** PROPERTIES of the one track row sent for `properties`. */
async function propertiesOf(properties: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { ns, plugin, analytics } = await setup()
  await analytics.track('Order Completed', properties)
  const [row] = rowsOf(await sent(ns, plugin))
  return JSON.parse(row?.[6] ?? 'null') as Record<string, unknown>
}

// The rule: what JSON can hold is kept; everything else is made harmless, never thrown.
describe('values JSON cannot hold, or that are hostile', () => {
  afterEach(() => sinon.restore())

  it('turns a cycle into "[Circular]" and keeps the rest', async () => {
    const cart: Record<string, unknown> = { id: 'c1' }
    cart.self = cart
    expect(await propertiesOf({ cart })).to.deep.equal({ cart: { id: 'c1', self: '[Circular]' } })
  })

  it('keeps an object seen twice (not a cycle) both times', async () => {
    const price = { amount: 5 }
    expect(await propertiesOf({ a: price, b: price })).to.deep.equal({
      a: { amount: 5 },
      b: { amount: 5 },
    })
  })

  it('writes a BigInt as its decimal string', async () => {
    expect(await propertiesOf({ big: 12345678901234567890n })).to.deep.equal({
      big: '12345678901234567890',
    })
  })

  it('leaves out functions, symbols and undefined (null inside arrays)', async () => {
    expect(
      await propertiesOf({
        f: () => 1,
        s: Symbol('x'),
        u: undefined,
        list: [1, undefined, () => 2],
      }),
    ).to.deep.equal({
      list: [1, null, null],
    })
  })

  it('writes a Date as its ISO string and an invalid Date as null', async () => {
    expect(
      await propertiesOf({ at: new Date(Date.UTC(2026, 0, 2)), bad: new Date('nope') }),
    ).to.deep.equal({
      at: '2026-01-02T00:00:00.000Z',
      bad: null,
    })
  })

  it('writes NaN and Infinity as null', async () => {
    expect(await propertiesOf({ a: NaN, b: Infinity })).to.deep.equal({ a: null, b: null })
  })

  it('clips a very long string to 2048 characters', async () => {
    const { text } = (await propertiesOf({ text: 'x'.repeat(100_000) })) as { text: string }
    expect(text).to.have.length(2048)
  })

  it('never splits a surrogate pair when clipping', async () => {
    const { text } = (await propertiesOf({ text: `${'x'.repeat(2047)}😀😀` })) as { text: string }
    expect(text).to.equal('x'.repeat(2047))
  })

  it('keeps unicode intact', async () => {
    const value = 'Zoë — 東京 — مرحبا — 😀 — \u0000\u2028'
    expect(await propertiesOf({ value })).to.deep.equal({ value })
  })

  it('drops __proto__ keys and pollutes nothing', async () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<
      string,
      unknown
    >
    expect(await propertiesOf({ hostile })).to.deep.equal({ hostile: { ok: 1 } })
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined)
  })

  it('leaves out a value whose getter throws', async () => {
    const trap = Object.defineProperty({ ok: 1 }, 'boom', {
      enumerable: true,
      get() {
        throw new Error('boom')
      },
    })
    expect(await propertiesOf({ trap, after: 2 })).to.deep.equal({ after: 2 })
  })

  it('cuts nesting deeper than 8 levels', async () => {
    let deep: Record<string, unknown> = { bottom: true }
    for (let i = 0; i < 12; i++) deep = { d: deep }
    expect(JSON.stringify(await propertiesOf({ deep }))).to.contain('"[Truncated]"')
  })

  // Short values take the fast path (docs/performance-page-view.md): the limit must hold there too.
  it('keeps 8 levels of nesting whole and cuts the 9th, however short the value', async () => {
    const nest = (levels: number, bottom: unknown): unknown =>
      levels ? { d: nest(levels - 1, bottom) } : bottom
    // PROPERTIES itself is the first level.
    expect(await propertiesOf({ deep: nest(7, 1) })).to.deep.equal({ deep: nest(7, 1) })
    expect(await propertiesOf({ deep: nest(8, 1) })).to.deep.equal({
      deep: nest(7, '[Truncated]'),
    })
    expect(await propertiesOf({ list: [[[[[[[1]]]]]]] })).to.deep.equal({ list: [[[[[[[1]]]]]]] })
    expect(await propertiesOf({ list: [[[[[[[[1]]]]]]]] })).to.deep.equal({
      list: [[[[[[['[Truncated]']]]]]]],
    })
  })

  // A cell over 2,048 characters is made safe by a copy first; a shorter one is not: both must
  // read a value alike.
  it('counts arrays and objects as levels, not a Date or what toJSON stands for, in any cell', async () => {
    const nest = (levels: number, bottom: unknown): unknown =>
      levels ? { d: nest(levels - 1, bottom) } : bottom
    const pad = 'x'.repeat(3000)
    const date = nest(7, new Date(0))
    const toJSON = nest(6, { toJSON: () => ({ x: 1 }) })
    for (const properties of [
      { date, toJSON },
      { date, toJSON, pad },
    ]) {
      expect(await propertiesOf(properties)).to.deep.include({
        date: nest(7, '1970-01-01T00:00:00.000Z'),
        toJSON: nest(6, { x: 1 }),
      })
    }
  })

  it('drops a __proto__ key and clips a string in a short value as in a long one', async () => {
    const { ns, plugin, analytics } = await setup()
    const hostile = JSON.parse('{"__proto__": 1, "ok": 1}') as Record<string, unknown>
    await analytics.track('Order Completed', { hostile })
    await analytics.track('Order Completed', { text: 'x'.repeat(2049) })
    const [withKey, withText] = rowsOf(await sent(ns, plugin))
    // The cell's text itself: JSON.parse would hide the key again.
    expect(withKey?.[6]).to.equal('{"hostile":{"ok":1}}')
    expect(withText?.[6]).to.equal(`{"text":"${'x'.repeat(2048)}"}`)
  })

  it('keeps a PROPERTIES cell under 16 KB, marking what it left out', async () => {
    const many = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'.repeat(2000)]),
    )
    const { ns, plugin, analytics } = await setup()
    await analytics.track('Order Completed', many)
    const [row] = rowsOf(await sent(ns, plugin))
    expect(row?.[6]?.length).to.be.at.most(16_384)
    expect(JSON.parse(row?.[6] ?? '')).to.include({ $truncated: true })
  })

  it('clips a very long event name or user id like any string', async () => {
    const { ns, plugin, analytics } = await setup()
    await analytics.identify('u'.repeat(5000))
    const [row] = rowsOf(await sent(ns, plugin))
    expect(row?.[3]).to.have.length(2048)
  })
})
