import { log } from '../log/log.js'
import { storedSize, type Lane, type QueuedRow } from './records.js'
import { FIRST_CHUNK, laneName } from './storedFormat.js'
import { CHUNK_BYTES } from './tunables.js'
import type { Target } from '../smc/Target.js'
import type { TransportOptions } from './types.js'

/** Rows and their bytes, as stored. */
interface Tally {
  rows_: number
  bytes_: number
}

/**
 * The queue: a lane of rows per target, and what it holds. A row is held from `add` until
 * `remove`: waiting in its lane, or taken for a request whose answer has not come. Every change
 * goes through the operations below, which keep the tallies of rows held and of rows stored.
 */
export interface Queue {
  /** The lanes, by lane name. */
  readonly lanes_: ReadonlyMap<string, Lane>
  /** Rows held and their bytes as stored (docs/design.md#transport, "Bounds"). */
  readonly held_: Readonly<Tally>
  /** Of them, the rows storage holds (or will at the next write). */
  readonly stored_: Readonly<Tally>
  /** The lane of `target`, made on first use. */
  laneOf_(target: Target): Lane
  /** Queues a new row last in its lane, in the lane's newest chunk when storage is on. */
  add_(lane: Lane, id: string, json: string, tries: number): void
  /**
   * Takes up to `batchSize` waiting rows off the front of the lane whose body fits in `budget`
   * bytes, and at least `least` rows: 1 for a row too big for any keepalive request.
   */
  take_(lane: Lane, budget: number, least: number): QueuedRow[]
  /** Puts taken rows back at the front of their lane. */
  putBack_(lane: Lane, rows: readonly QueuedRow[]): void
  /** Lets go of taken rows: delivered, dropped, or handed to the browser. */
  remove_(rows: readonly QueuedRow[]): void
  /** Removes the lane's waiting rows held in memory only, and returns them. */
  removeMemoryOnly_(lane: Lane): QueuedRow[]
  /** Removes every waiting row, and returns them by lane. */
  removeWaiting_(): Map<Lane, QueuedRow[]>
  /**
   * Brings the queue within its bounds. Past the storage bounds the oldest stored rows are held
   * in memory only: storage keeps the newest, and the rows it gives up are the next to be sent.
   * Past the memory bounds the oldest waiting rows are removed and handed to `overflowed`. Taken
   * rows count but are never picked: their answer frees them.
   */
  trim_(overflowed: (lane: Lane, row: QueuedRow) => void): void
  /** Whether the queue holds more than half its storage bounds. */
  isPressed_(): boolean
}

/** Creates the queue; `persisting` says whether its rows are written to storage. */
export function createQueue(options: TransportOptions, persisting: boolean): Queue {
  const lanes = new Map<string, Lane>()
  const held: Tally = { rows_: 0, bytes_: 0 }
  const stored: Tally = { rows_: 0, bytes_: 0 }
  let pushed = 0
  let nextChunk = FIRST_CHUNK
  let warnedFull = false

  const tally = (row: QueuedRow, sign: 1 | -1): void => {
    const size = sign * storedSize(row)
    held.rows_ += sign
    held.bytes_ += size
    if (row.chunk_ === undefined) return
    stored.rows_ += sign
    stored.bytes_ += size
  }

  /** The lane whose row `rowOf(lane)` is the oldest; none if no lane has one. */
  const oldest = (rowOf: (lane: Lane) => QueuedRow | undefined): Lane | undefined => {
    let found: Lane | undefined
    let order = Infinity
    for (const lane of lanes.values()) {
      const row = rowOf(lane)
      if (row && row.order_ < order) {
        found = lane
        order = row.order_
      }
    }
    return found
  }

  /** Moves the lane's `firstStored_` past the rows held in memory only. */
  const skipMemoryOnly = (lane: Lane): void => {
    const rows = lane.waiting_
    while (lane.firstStored_ < rows.length && rows[lane.firstStored_]!.chunk_ === undefined) {
      lane.firstStored_++
    }
  }

  const remove = (rows: readonly QueuedRow[]): void => {
    for (const row of rows) tally(row, -1)
  }

  const overBounds = (tally: Tally, rows: number, bytes: number): boolean =>
    tally.rows_ > rows || tally.bytes_ > bytes

  return {
    lanes_: lanes,
    held_: held,
    stored_: stored,
    laneOf_(target) {
      const name = laneName(target)
      let lane = lanes.get(name)
      if (!lane) {
        lane = {
          target_: target,
          waiting_: [],
          firstStored_: 0,
          chunk_: nextChunk++,
          chunkBytes_: 0,
          awaiting_: 0,
          failures_: 0,
          notBefore_: 0,
          timer_: undefined,
        }
        lanes.set(name, lane)
      }
      return lane
    },
    add_(lane, id, json, tries) {
      const row: QueuedRow = {
        id_: id,
        json_: json,
        tries_: tries,
        order_: pushed++,
        chunk_: persisting ? lane.chunk_ : undefined,
      }
      lane.waiting_.push(row)
      tally(row, 1)
      lane.chunkBytes_ += storedSize(row)
      if (lane.chunkBytes_ > CHUNK_BYTES) {
        lane.chunk_ = nextChunk++
        lane.chunkBytes_ = 0
      }
    },
    take_(lane, budget, least) {
      let count = Math.min(options.batchSize, lane.waiting_.length)
      let size = 1
      for (let i = 0; i < count; i++) {
        size += lane.waiting_[i]!.json_.length + 1
        if (size > budget) count = Math.max(i, least)
      }
      lane.firstStored_ = 0
      return lane.waiting_.splice(0, count)
    },
    putBack_(lane, rows) {
      lane.waiting_.unshift(...rows)
      lane.firstStored_ = 0
    },
    remove_: remove,
    removeMemoryOnly_(lane) {
      const memoryOnly = lane.waiting_.filter((row) => row.chunk_ === undefined)
      lane.waiting_ = lane.waiting_.filter((row) => row.chunk_ !== undefined)
      lane.firstStored_ = 0
      remove(memoryOnly)
      return memoryOnly
    },
    removeWaiting_() {
      const removed = new Map<Lane, QueuedRow[]>()
      for (const lane of lanes.values()) {
        const rows = lane.waiting_.splice(0)
        remove(rows)
        removed.set(lane, rows)
        lane.firstStored_ = 0
      }
      return removed
    },
    trim_(overflowed) {
      while (overBounds(held, options.maxMemoryRows, options.maxMemoryBytes)) {
        const lane = oldest((candidate) => candidate.waiting_[0])
        if (!lane) break
        if (!warnedFull) log('warn', 'queue full: oldest rows dropped')
        warnedFull = true
        if (lane.firstStored_) lane.firstStored_--
        const row = lane.waiting_.shift()!
        tally(row, -1)
        overflowed(lane, row)
      }
      while (overBounds(stored, options.maxQueueRows, options.maxQueueBytes)) {
        lanes.forEach(skipMemoryOnly)
        const lane = oldest((candidate) => candidate.waiting_[candidate.firstStored_])
        if (!lane) break
        const row = lane.waiting_[lane.firstStored_++]!
        tally(row, -1)
        row.chunk_ = undefined
        tally(row, 1)
      }
    },
    isPressed_() {
      return overBounds(held, options.maxQueueRows / 2, options.maxQueueBytes / 2)
    },
  }
}
