import { isTabKey, newTabKey, tabKeyOf } from './storedFormat.js'
import { keysOf, type UseStorage } from './storage.js'

/**
 * This tab's hold on its storage key, and its watch on the keys of other tabs
 * (docs/design.md#web-locks-for-tab-liveness). A tab holds the Web Lock named after its key while it lives, and the
 * browser releases it when the tab closes, crashes or is discarded; every other tab queues a
 * request for that lock, granted the moment the owner is gone and to one of them only, which
 * then adopts what the owner left.
 */
export interface TabLease {
  /** This tab's key, taken with its lock at the first call (its first write). */
  key_(): string
  /** Starts as a tab with no key yet, and watches the keys of the other tabs. */
  start_(): void
  /** Ends this tab's lock and its requests for the locks of others. */
  end_(): void
}

/** Creates the lease of a tab persisting under `storageKey`; `adopt` is called with a gone tab's key. */
export function createTabLease(
  locks: LockManager,
  storageKey: string,
  storage: UseStorage,
  adopt: (tabKey: string) => void,
): TabLease {
  let lease = new AbortController()
  let key: string | undefined
  // Tab keys whose lock this tab holds or has asked for.
  let watched = new Set<string>()
  /** Asks for the lock `name` until the lease ends; `callback` runs once it is granted. */
  const lock = (name: string, callback: () => unknown): void => {
    locks.request(name, { signal: lease.signal }, callback).catch(() => undefined)
  }

  /**
   * Asks for the lock of every tab key not watched yet, and listens for the keys other tabs
   * write from now on: a tab announces itself by writing its key.
   */
  const watch = (): void => {
    const { signal } = lease
    // Ends with the lease, as the lock requests do: at close, and when the page is left.
    addEventListener('storage', watch, { signal })
    for (const name of storage(keysOf) ?? []) {
      const tab = tabKeyOf(name)
      if (!isTabKey(tab, storageKey) || watched.has(tab)) continue
      watched.add(tab)
      lock(tab, () => adopt(tab))
    }
  }

  return {
    key_() {
      if (key === undefined) {
        key = newTabKey(storageKey)
        watched.add(key)
        // Asked for before its first write, which other tabs see: this tab is first in line.
        const { signal } = lease
        lock(key, () => new Promise((release) => signal.addEventListener('abort', release)))
      }
      return key
    },
    start_() {
      lease = new AbortController()
      key = undefined
      watched = new Set()
      // In a task of its own: a `storage` listener makes Chrome open the origin's storage and
      // wait for it, which the call that made the transport should not
      // (docs/performance-page-view.md).
      setTimeout(watch)
    },
    end_() {
      lease.abort()
    },
  }
}
