import { log } from '../log/log.js'
import type { Queue } from './createQueue.js'
import type { TabLease } from './createTabLease.js'
import type { Lane, QueuedRow } from './records.js'
import { keysOf, type UseStorage } from './storage.js'
import {
  chunkKey,
  decodeChunk,
  encodeChunk,
  isTabKey,
  tabKeyOf,
  type StoredChunk,
} from './storedFormat.js'
import { PERSIST_DELAY } from './tunables.js'

/** Writes the queue to storage, coalesced, and reads what a gone tab left. */
export interface Persistence {
  /** Writes what changed since the last write, now. */
  write_(): void
  /** Writes within `ms` (or 10 times what the last write took), unless a write is due sooner. */
  writeWithin_(ms: number): void
  /**
   * Nothing is held any more: what was written goes soon; with nothing written, nothing is
   * written (and a write due is called off).
   */
  writeEmptied_(): void
  /** Reads and removes the chunks of the tab `tabKey`, in the order they were started. */
  takeChunks_(tabKey: string): StoredChunk[]
  /** Removes the chunks of every tab, live or gone, this one's included. */
  removeEveryTab_(): void
  /** Starts over as a tab that has written nothing. */
  reset_(): void
  /** Writes nothing from now on. */
  stop_(): void
}

/**
 * Creates the persistence of a queue whose rows are written under the tab's key, one of the tab
 * keys under `storageKey`. `heldRows` are
 * a lane's rows that storage should hold when they are stored rows: those in requests not handed
 * over yet, then those waiting.
 */
export function createPersistence(
  queue: Queue,
  storageKey: string,
  lease: TabLease,
  storage: UseStorage,
  heldRows: (lane: Lane) => readonly QueuedRow[],
): Persistence {
  // Chunks written under this tab's key: chunk → its rows and their tries, as last written.
  let written = new Map<number, string>()
  let timer: ReturnType<typeof setTimeout> | undefined
  let dueAt: number | undefined
  let lastWriteMs = 0
  let stopped = false
  let warnedCorrupt = false

  /**
   * Writes what changed in the queue since the last write. A chunk is written again only when
   * rows joined or left it or their tries changed, and removed once empty. So a write costs the
   * rows that are new plus a chunk or two, however long the queue
   * (docs/design.md#chunked-storage).
   */
  const write = (): void => {
    clearTimeout(timer)
    dueAt = undefined
    if (stopped) return
    const chunks = new Map<number, { lane_: string; state_: string; rows_: QueuedRow[] }>()
    for (const [name, lane] of queue.lanes_) {
      for (const row of heldRows(lane)) {
        if (row.chunk_ === undefined) continue
        let chunk = chunks.get(row.chunk_)
        if (!chunk) {
          chunk = { lane_: name, state_: '', rows_: [] }
          chunks.set(row.chunk_, chunk)
        }
        chunk.state_ += `${row.order_}.${row.tries_},`
        chunk.rows_.push(row)
      }
    }
    // Nothing to write, nothing written: no key, no lock.
    if (!chunks.size && !written.size) return
    const key = lease.key_()
    const started = performance.now()
    // Removals first: storage never holds more than the bounds, even within a write.
    for (const chunk of written.keys()) {
      if (chunks.has(chunk)) continue
      written.delete(chunk)
      storage((s) => s.removeItem(chunkKey(key, chunk)))
    }
    for (const [chunk, { lane_: lane, state_: state, rows_: rows }] of chunks) {
      if (written.get(chunk) === state) continue
      const text = encodeChunk(lane, rows)
      const stored = storage((s) => {
        s.setItem(chunkKey(key, chunk), text)
        return true
      })
      // Remembered only once written: a write that failed is tried again by the next one.
      if (stored) written.set(chunk, state)
    }
    lastWriteMs = performance.now() - started
  }

  const writeWithin = (ms: number): void => {
    const at = performance.now() + Math.max(ms, lastWriteMs * 10)
    if (dueAt !== undefined && at >= dueAt) return
    clearTimeout(timer)
    dueAt = at
    timer = setTimeout(write, at - performance.now())
  }

  return {
    write_: write,
    writeWithin_: writeWithin,
    writeEmptied_() {
      if (written.size) writeWithin(PERSIST_DELAY)
      else write()
    },
    takeChunks_(tabKey) {
      const keys = (storage(keysOf) ?? []).filter((key) => tabKeyOf(key) === tabKey).sort()
      const chunks: StoredChunk[] = []
      for (const key of keys) {
        const text = storage((s) => s.getItem(key))
        storage((s) => s.removeItem(key))
        // Gone meanwhile (or storage failed): nothing to read.
        if (text === null || text === undefined) continue
        const chunk = decodeChunk(text)
        if (chunk) chunks.push(chunk)
        else if (!warnedCorrupt) {
          // Storage this code did not write, or a write cut short: the rest is read.
          log('warn', 'stored queue out of shape, not read:', key)
          warnedCorrupt = true
        }
      }
      return chunks
    },
    removeEveryTab_() {
      for (const key of storage(keysOf) ?? []) {
        if (isTabKey(key, storageKey)) storage((s) => s.removeItem(key))
      }
      written = new Map()
    },
    reset_() {
      written = new Map()
    },
    stop_() {
      stopped = true
    },
  }
}
