/** The few localStorage operations the transport needs, none of which can throw. */
export interface GuardedStorage {
  /** The parsed JSON stored under `key`; `undefined` when absent, unreadable or corrupted. */
  read(key: string): unknown
  /** Stores `text` under `key`; on failure the queue simply lives on in memory. */
  write(key: string, text: string): void
  /** Removes `key`. */
  remove(key: string): void
  /** Every stored key that starts with `prefix`. */
  keys(prefix: string): string[]
}

/**
 * Wraps localStorage so that a full quota, disabled storage (Safari private mode, blocked
 * cookies: even reading `window.localStorage` throws there) or a corrupted value costs the page
 * nothing but durability: the queue keeps working in memory, and one warning says why.
 */
export function createStorage(): GuardedStorage {
  let warned = false
  const guard = <T>(use: (storage: Storage) => T, fallback: () => T): T => {
    try {
      return use(localStorage)
    } catch (error) {
      if (!warned) console.warn('[Selligent] queue kept in memory only:', error)
      warned = true
      return fallback()
    }
  }
  const remove = (key: string): void =>
    guard(
      (s) => s.removeItem(key),
      () => undefined,
    )
  return {
    read: (key) =>
      guard(
        (s) => {
          const text = s.getItem(key)
          return text === null ? undefined : (JSON.parse(text) as unknown)
        },
        // A value that does not parse would fail again on every load: forget it.
        () => remove(key),
      ),
    write: (key, text) =>
      guard(
        (s) => s.setItem(key, text),
        () => undefined,
      ),
    remove,
    keys: (prefix) =>
      guard(
        (s) => Object.keys(s).filter((k) => k.startsWith(prefix)),
        () => [],
      ),
  }
}
