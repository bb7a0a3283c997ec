/** Bounds how many SMC calls are in flight at once. */
export interface Slots {
  /**
   * Resolves with `true` once a call may start (it must then {@link release}), or `false` when
   * none could within `waitMs`.
   */
  acquire(waitMs: number): Promise<boolean>
  /** Ends a call that {@link acquire} let start. */
  release(): void
}

/**
 * At most `max` calls at once; the others wait in arrival order. A hanging SMC then holds `max`
 * sockets and their bodies, not one per merged call, and a call that waited `waitMs` in vain is
 * answered retryably instead of waiting on.
 */
export function createSlots(max: number): Slots {
  let busy = 0
  const waiting: (() => void)[] = []
  return {
    acquire(waitMs) {
      if (busy < max) {
        busy++
        return Promise.resolve(true)
      }
      return new Promise((resolve) => {
        const start = (): void => {
          clearTimeout(timer)
          resolve(true)
        }
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(start), 1)
          resolve(false)
        }, waitMs)
        waiting.push(start)
      })
    },
    release() {
      // The slot passes straight to the next call in line, so `busy` stays as it is.
      const next = waiting.shift()
      if (next) next()
      else busy--
    },
  }
}
