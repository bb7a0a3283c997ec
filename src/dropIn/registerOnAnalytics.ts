import type { Plugin } from '@segment/analytics-next'

type Host = Record<string, unknown>

/**
 * Hands `plugin` to what `analytics` is now: the snippet's stub (an array analytics-next drains
 * on load, where `register` is a buffered method), or a loaded or buffered analytics-next (its
 * `register`). `false` when it is neither yet.
 */
function attach(analytics: unknown, plugin: Plugin): boolean {
  try {
    if (Array.isArray(analytics)) {
      analytics.push(['register', plugin])
      return true
    }
    const register = (analytics as Host | null | undefined)?.register
    if (typeof register !== 'function') return false
    Promise.resolve(register.call(analytics, plugin)).catch(reportFailure)
  } catch (error) {
    reportFailure(error)
  }
  return true
}

function reportFailure(error: unknown): void {
  console.error('[Selligent Marketing Cloud] could not register on window.analytics', error)
}

/**
 * Registers `plugin` on `window.analytics` — at once if it is there, else the moment the page
 * assigns it. A one-shot setter catches that moment exactly (a poll could miss calls a fast
 * analytics makes before the next tick) and costs nothing while nothing happens; it becomes a
 * plain property again on the first usable assignment. Where the property cannot be redefined
 * (a global `var analytics`), a poll every 100 ms for at most a minute stands in.
 */
export function registerOnAnalytics(plugin: Plugin): void {
  const host = window as unknown as Host
  let current = host.analytics
  if (attach(current, plugin)) return
  try {
    Object.defineProperty(host, 'analytics', {
      configurable: true,
      enumerable: true,
      get: () => current,
      set(value: unknown) {
        current = value
        if (attach(value, plugin)) {
          Object.defineProperty(host, 'analytics', {
            value,
            writable: true,
            configurable: true,
            enumerable: true,
          })
        }
      },
    })
  } catch {
    const poll = (left: number): unknown =>
      attach(host.analytics, plugin) || (left && setTimeout(poll, 100, left - 1))
    poll(600)
  }
}
