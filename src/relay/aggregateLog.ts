import type { RelayLogEntry } from './config/RelayOptions.js'

/** Kinds of entries counted at once; past it, new kinds share one count, so memory stays bounded. */
const MAX_KINDS = 100

/**
 * Clients decide how often most entries happen (refusals, aborts, a spent budget), so within an
 * interval of `intervalMs` (from the first entry written in it) each kind of entry (level, event,
 * code and target) is written once and then counted; at the interval's end, one line per kind
 * gives the count of its repeats. An attacker then sets how many requests are counted, not how
 * many lines are written. `forwarded` entries are not counted: there is one per SMC call, which
 * the budget bounds, and each tells its own outcome.
 */
export function aggregateLog(
  write: (entry: RelayLogEntry) => void,
  intervalMs: number,
): (entry: RelayLogEntry) => void {
  const repeats = new Map<string, { entry: RelayLogEntry; count: number }>()
  let timer: ReturnType<typeof setTimeout> | undefined

  const summarize = (): void => {
    timer = undefined
    const interval = intervalMs < 1000 ? `${intervalMs} ms` : `${Math.round(intervalMs / 1000)} s`
    for (const { entry, count } of repeats.values()) {
      if (count > 0) {
        write({
          ...entry,
          message: `${entry.message} (${count} more in the last ${interval})`,
          repeated: count,
        })
      }
    }
    repeats.clear()
  }

  return (entry) => {
    if (entry.event === 'forwarded') return write(entry)
    const kind = [entry.level, entry.event, entry.code, entry.target].join(' ')
    const key = repeats.has(kind) || repeats.size < MAX_KINDS ? kind : 'other'
    const seen = repeats.get(key)
    if (seen) {
      seen.count++
      seen.entry = entry
      return
    }
    repeats.set(key, { entry, count: 0 })
    write(entry)
    if (!timer) {
      timer = setTimeout(summarize, intervalMs)
      // Pending counts must not keep a stopping process alive (Node; other runtimes have no unref).
      ;(timer as { unref?: () => void }).unref?.()
    }
  }
}
