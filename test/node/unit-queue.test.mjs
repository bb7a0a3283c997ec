// Unit tests of the transport's queue (src/transport/createQueue.ts): taking a batch, trimming to
// the bounds, demotion to memory only, and the tallies every operation keeps
// (docs/design.md#transport, "Bounds").
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { importSource } from './importSource.mjs'

const { createQueue, storedSize } = await importSource(`
  export { createQueue } from './src/transport/createQueue.ts'
  export { storedSize } from './src/transport/records.ts'
`)

const EVENTS = { method: 'POST', path: '/events', query: 'fields=ID' }
const OTHER = { method: 'POST', path: '/other', query: 'fields=ID' }
const BOUNDS = {
  batchSize: 3,
  maxQueueRows: 100,
  maxQueueBytes: 1e6,
  maxMemoryRows: 100,
  maxMemoryBytes: 1e6,
}

/** A queue with `bounds`; `add(lane, id)` queues a row whose JSON is `["id"]`. */
function queueOf(bounds = {}, persisting = true) {
  const queue = createQueue({ ...BOUNDS, ...bounds }, persisting)
  const add = (lane, id) => queue.add_(lane, id, JSON.stringify([id]), 0)
  return { queue, add }
}

/** A queue with `bounds` holding e1, o1, e2, o2 pushed in that order to two lanes. */
function interleaved(bounds) {
  const { queue, add } = queueOf(bounds)
  const events = queue.laneOf_(EVENTS)
  const other = queue.laneOf_(OTHER)
  add(events, 'e1')
  add(other, 'o1')
  add(events, 'e2')
  add(other, 'o2')
  return { queue, add, events, other }
}

/** Runs `trim` with the queue's one warning (queue full) silenced. */
function trimQuietly(queue, overflowed) {
  const warn = console.warn
  console.warn = () => undefined
  try {
    queue.trim_(overflowed)
  } finally {
    console.warn = warn
  }
}

const ids = (rows) => rows.map((row) => row.id_)
const tally = (queue) => [queue.held_.rows_, queue.stored_.rows_]

test('take: up to batchSize rows off the front, still held', () => {
  const { queue, add } = queueOf()
  const lane = queue.laneOf_(EVENTS)
  for (const id of ['a', 'b', 'c', 'd']) add(lane, id)
  assert.deepEqual(ids(queue.take_(lane, 1e6, 1)), ['a', 'b', 'c'])
  assert.deepEqual(ids(lane.waiting_), ['d'])
  assert.deepEqual(tally(queue), [4, 4])
})

test('take: only the rows whose body fits the budget, and at least `least`', () => {
  const { queue, add } = queueOf()
  const lane = queue.laneOf_(EVENTS)
  for (const id of ['a', 'b', 'c']) add(lane, id)
  // `["a"]` is 5 bytes; a body of two is `[["a"],["b"]]`, 13 bytes.
  assert.deepEqual(ids(queue.take_(lane, 13, 1)), ['a', 'b'])
  assert.deepEqual(ids(queue.take_(lane, 2, 0)), [])
  assert.deepEqual(ids(queue.take_(lane, 2, 1)), ['c'])
})

test('remove and putBack keep the tallies: removed rows leave them, put back rows wait first', () => {
  const { queue, add } = queueOf()
  const lane = queue.laneOf_(EVENTS)
  for (const id of ['a', 'b', 'c']) add(lane, id)
  const [a, b] = queue.take_(lane, 13, 1)
  queue.remove_([a])
  queue.putBack_(lane, [b])
  assert.deepEqual(ids(lane.waiting_), ['b', 'c'])
  assert.deepEqual(tally(queue), [2, 2])
  assert.equal(queue.held_.bytes_, storedSize(b) + storedSize(lane.waiting_[1]))
})

test('trim: past the memory bounds the oldest waiting rows of any lane are dropped', () => {
  const { queue, add, events } = interleaved({ maxMemoryRows: 3 })
  add(events, 'e3')
  const dropped = []
  trimQuietly(queue, (lane, row) => dropped.push([lane === events ? 'events' : 'other', row.id_]))
  assert.deepEqual(dropped, [
    ['events', 'e1'],
    ['other', 'o1'],
  ])
  assert.deepEqual(tally(queue), [3, 3])
})

test('trim: rows taken for a request are never dropped, whatever their age', () => {
  const { queue, add } = queueOf({ maxMemoryRows: 1 })
  const lane = queue.laneOf_(EVENTS)
  add(lane, 'a')
  queue.take_(lane, 1e6, 1)
  add(lane, 'b')
  const dropped = []
  trimQuietly(queue, (_, row) => dropped.push(row.id_))
  assert.deepEqual(dropped, ['b'])
  assert.deepEqual(tally(queue), [1, 1])
})

test('trim: past the storage bounds the oldest stored rows are demoted to memory only', () => {
  const { queue, events, other } = interleaved({ maxQueueRows: 2 })
  queue.trim_(() => assert.fail('nothing is past the memory bounds'))
  const memoryOnly = (lane) => ids(lane.waiting_.filter((row) => row.chunk_ === undefined))
  assert.deepEqual(memoryOnly(events), ['e1'])
  assert.deepEqual(memoryOnly(other), ['o1'])
  assert.deepEqual(tally(queue), [4, 2])
  // The demoted rows are the first to go: removing them leaves the stored ones.
  assert.deepEqual(ids(queue.removeMemoryOnly_(events)), ['e1'])
  assert.deepEqual(tally(queue), [3, 2])
})

test('trim: bytes bound storage as rows do', () => {
  const { queue, add } = queueOf()
  const lane = queue.laneOf_(EVENTS)
  add(lane, 'a')
  const size = storedSize(lane.waiting_[0])
  const bounded = queueOf({ maxQueueBytes: size * 2 })
  const bounds = bounded.queue.laneOf_(EVENTS)
  for (const id of ['a', 'b', 'c']) bounded.add(bounds, id)
  bounded.queue.trim_(() => undefined)
  assert.deepEqual(tally(bounded.queue), [3, 2])
  assert.equal(bounded.queue.stored_.bytes_, size * 2)
})

test('without storage no row is stored, and nothing is demoted', () => {
  const { queue, add } = queueOf({ maxQueueRows: 1 }, false)
  const lane = queue.laneOf_(EVENTS)
  add(lane, 'a')
  add(lane, 'b')
  queue.trim_(() => undefined)
  assert.deepEqual(tally(queue), [2, 0])
  assert.deepEqual(ids(queue.removeMemoryOnly_(lane)), ['a', 'b'])
  assert.deepEqual(tally(queue), [0, 0])
})

test('isPressed: past half the storage bounds', () => {
  const { queue, add } = queueOf({ maxQueueRows: 4 })
  const lane = queue.laneOf_(EVENTS)
  add(lane, 'a')
  add(lane, 'b')
  assert.equal(queue.isPressed_(), false)
  add(lane, 'c')
  assert.equal(queue.isPressed_(), true)
})

test('rows join the lane chunk until it holds CHUNK_BYTES, then start the next', async () => {
  const { CHUNK_BYTES } = await importSource(`export * from './src/transport/tunables.ts'`)
  const { queue } = queueOf()
  const lane = queue.laneOf_(EVENTS)
  const big = JSON.stringify(['x'.repeat(CHUNK_BYTES / 2)])
  for (const id of ['a', 'b', 'c']) queue.add_(lane, id, big, 0)
  const [a, b, c] = lane.waiting_
  assert.equal(a.chunk_, b.chunk_)
  assert.equal(c.chunk_, b.chunk_ + 1)
})
