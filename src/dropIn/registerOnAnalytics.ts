import type { Plugin } from '@segment/analytics-next'
import { log } from '../log/log.js'

type Host = Record<string, unknown>

/** Reports a drop-in that could not do its job, with the error that stopped it. */
export function reportFailure(error: unknown): void {
  log('error', 'drop-in failed:', error)
}

/**
 * Hands `plugin` to what `analytics` is now: the snippet's stub (an array analytics-next drains
 * on load, where `register` is a buffered method), or a loaded or buffered analytics-next (its
 * `register`). `false` when it is neither yet.
 */
function attach(analytics: unknown, plugin: Plugin): boolean {
  if (Array.isArray(analytics)) {
    analytics.push(['register', plugin])
    return true
  }
  const register = (analytics as Host | null | undefined)?.register
  if (typeof register !== 'function') return false
  // A stub or a loaded analytics may register synchronously or not; either way it must not throw
  // into the page.
  new Promise((done) => done(register.call(analytics, plugin))).catch(reportFailure)
  return true
}

/**
 * Registers `plugin` on `window.analytics` — at once if it is there, else the moment the page
 * assigns it. A one-shot setter catches that moment exactly (a poll could miss calls a fast
 * analytics makes before the next tick) and costs nothing while nothing happens; it becomes a
 * plain property again on the first usable assignment. Throws where the property cannot be
 * redefined: a global `var analytics` declared, still empty, before this tag.
 */
export function registerOnAnalytics(plugin: Plugin): void {
  const host = window as unknown as Host
  let current = host.analytics
  if (attach(current, plugin)) return
  Object.defineProperty(host, 'analytics', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set(value: unknown) {
      current = value
      if (attach(value, plugin)) {
        delete host.analytics
        host.analytics = value
      }
    },
  })
}
