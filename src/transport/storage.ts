import { log } from '../log/log.js'

/** Runs `use` on localStorage; `undefined` when storage failed it. */
export type UseStorage = <T>(use: (storage: Storage) => T) => T | undefined

/**
 * Access to localStorage for one transport. Storage fails in many ways (quota exceeded; disabled
 * storage, where even reading `window.localStorage` throws): each costs durability only, the
 * queue lives on in memory, and the first failure is logged.
 */
export function createStorage(): UseStorage {
  let warned = false
  return (use) => {
    try {
      return use(localStorage)
    } catch (error) {
      if (!warned) log('warn', 'queue kept in memory only:', error)
      warned = true
      return undefined
    }
  }
}

/** Every key `storage` holds. */
export const keysOf = (storage: Storage): string[] =>
  Array.from({ length: storage.length }, (_, i) => storage.key(i) ?? '')
