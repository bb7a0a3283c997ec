// Unit tests of the stored-format codec (src/transport/storedFormat.ts): what the transport
// writes is what it reads back, and anything else reads as out of shape
// (docs/design.md#chunked-storage).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { importSource } from './importSource.mjs'

const { chunkKey, decodeChunk, encodeChunk, laneName, tabKeyOf, toAsciiJson } = await importSource(`
    export * from './src/transport/storedFormat.ts'
    export { toAsciiJson } from './src/transport/records.ts'
  `)

const TARGET = { method: 'DELETE', path: '/lists/a/segments/b/data', query: 'keyFields=ID' }
const row = (id, ...cells) => ({ id_: id, json_: toAsciiJson([id, ...cells]), tries_: 2 })

test('a chunk decodes to the target and rows it was encoded from', () => {
  const rows = [row('a', 'Café 😀'), row('b', '')]
  const text = encodeChunk(laneName(TARGET), rows)
  assert.match(text, /^[\0-\x7f]*$/)
  assert.deepEqual(decodeChunk(text), { target_: TARGET, rows_: rows })
})

test('an empty chunk decodes to no rows', () => {
  assert.deepEqual(decodeChunk(encodeChunk(laneName(TARGET), [])), { target_: TARGET, rows_: [] })
})

for (const [name, text] of [
  ['not JSON', '[["POST /x'],
  ['not an array', '{"a":1}'],
  ['an unknown method', '["GET /x?y",[]]'],
  ['a lane without a query', '["POST /x",[]]'],
  ['rows not in an array', '["POST /x?y",{}]'],
  ['a row of four cells', '["POST /x?y",[[0,"a",["a"],1]]]'],
  ['negative tries', '["POST /x?y",[[-1,"a",["a"]]]]'],
  ['an id that is not text', '["POST /x?y",[[0,1,["a"]]]]'],
  ['a cell that is not text', '["POST /x?y",[[0,"a",["a",5]]]]'],
  ['one bad row among good ones', '["POST /x?y",[[0,"a",["a"]],null]]'],
]) {
  test(`out of shape: ${name}`, () => assert.equal(decodeChunk(text), undefined))
}

test('chunk keys name their tab', () => {
  const key = chunkKey('selligent:acme:list/1234', 1_000_001)
  assert.equal(key, 'selligent:acme:list/1234#1000001')
  assert.equal(tabKeyOf(key), 'selligent:acme:list/1234')
  assert.equal(tabKeyOf('selligent:acme:list/1234'), 'selligent:acme:list/1234')
})
