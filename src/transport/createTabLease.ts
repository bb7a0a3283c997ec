import type { GuardedStorage } from './createStorage.js'

/** How often a tab without Web Locks says it is alive. */
const HEARTBEAT_MS = 1000
/**
 * Silence after which such a tab counts as gone. Well above the 1 s floor browsers put on timers
 * of background tabs, so a merely hidden tab is not robbed.
 */
const STALE_MS = 10_000

/** This tab's claim on the storage key its queue persists under. */
export interface TabLease {
  /** The key (`{prefix}/{random id}`) only this tab writes its queue under. */
  readonly key: string
  /** Gives the key up: from now on another tab, or the next page, may adopt what it holds. */
  release(): void
}

const noop = (): void => undefined

/**
 * Every tab persists its queue under a key of its own and sends only what it holds in memory,
 * so two live tabs never send the same row. What a dead tab left behind is adopted by exactly
 * one other tab (or the next page): it reads the key, deletes it, and queues the rows as its own.
 *
 * Why a key per tab rather than one shared queue: localStorage has no compare-and-set, so a
 * shared queue needs every write to be a locked read-modify-write of the whole queue, which is
 * what the cheap, coalesced writes must avoid; with a key per tab a tab only ever overwrites its
 * own key, and the only cross-tab step is the rare adoption.
 *
 * Why Web Locks where present: a tab holds the lock named after its key for as long as it lives,
 * and the browser releases it when the tab closes, crashes or is discarded — there is no
 * liveness to guess. Other tabs queue a request for that lock; it is granted the moment the owner
 * is gone, and only to one of them, so adoption is immediate and exclusive with no polling.
 *
 * Otherwise (browsers before 2022) heartbeat and claim: each tab stamps `{prefix}#{id}` with
 * "time id" every second; a key whose stamp is older than STALE_MS is claimed by stamping it with
 * the claimer's id, and taken one beat later if the stamp is still the claimer's — a live owner or
 * a competing claimer overwrites it in between. Without an atomic compare-and-set two tabs can in
 * theory both win (writes crossing within one storage sync) or take the rows of a tab frozen for
 * longer than STALE_MS; the rows are then sent twice, which `EVENT_ID` as SMC's upsert key makes
 * harmless. Losing rows is never the outcome.
 */
export function createTabLease(
  prefix: string,
  storage: GuardedStorage,
  adopt: (key: string) => void,
): TabLease {
  const id = Math.random().toString(36).slice(2)
  const key = `${prefix}/${id}`
  const others = (): string[] => storage.keys(`${prefix}/`).filter((k) => k !== key)
  const locks = typeof navigator === 'object' ? navigator.locks : undefined

  if (locks) {
    const abort = new AbortController()
    const watched = new Set<string>()
    let release = noop
    const watch = (): void => {
      for (const k of others()) {
        if (watched.has(k)) continue
        watched.add(k)
        locks.request(k, { signal: abort.signal }, () => adopt(k)).catch(noop)
      }
    }
    // Requested before this tab writes anything, so ours is first in line for our own key.
    locks
      .request(key, { signal: abort.signal }, () => new Promise<void>((done) => (release = done)))
      .catch(noop)
    // A tab opened later announces itself by writing its key.
    const onStorage = (e: StorageEvent): void => {
      if (e.newValue && e.key?.startsWith(`${prefix}/`)) watch()
    }
    addEventListener('storage', onStorage)
    watch()
    return {
      key,
      release() {
        abort.abort()
        release()
        removeEventListener('storage', onStorage)
      },
    }
  }

  const stamp = (k: string): string => `${prefix}#${k.slice(prefix.length + 1)}`
  const mark = (k: string, now: number): void => storage.write(stamp(k), `"${now} ${id}"`)
  const beat = (): void => {
    const now = Date.now()
    mark(key, now)
    for (const k of others()) {
      const [time, owner] = String(storage.read(stamp(k)) ?? '0 ').split(' ')
      if (owner === id) {
        storage.remove(stamp(k))
        adopt(k)
      } else if (now - Number(time) > STALE_MS) mark(k, now)
    }
  }
  beat()
  const timer = setInterval(beat, HEARTBEAT_MS)
  return {
    key,
    release() {
      clearInterval(timer)
      // No stamp reads as stale: the rows left behind are adopted at the next beat of a tab.
      storage.remove(stamp(key))
    },
  }
}
