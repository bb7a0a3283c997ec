/** Clients remembered for a while. */
export interface RecentClients {
  /** Remembers `client`. */
  add(client: string): void
  /** Whether `client` was remembered within the last one or two windows. */
  has(client: string): boolean
}

/** Clients remembered for one to two windows of `windowMs`, two sets at a time at most. */
export function recentClients(windowMs: number): RecentClients {
  let current = new Set<string>()
  let previous = new Set<string>()
  let turnsAt = Date.now() + windowMs
  const turn = (): void => {
    if (Date.now() < turnsAt) return
    previous = Date.now() < turnsAt + windowMs ? current : new Set()
    current = new Set()
    turnsAt = Date.now() + windowMs
  }
  return {
    add(client) {
      turn()
      current.add(client)
    },
    has(client) {
      turn()
      return current.has(client) || previous.has(client)
    },
  }
}
