import { clientWaitMs, createClientLimiter, WINDOW_MS } from './createClientLimiter.js'
import type { RelayLogEntry } from '../config/RelayOptions.js'
import type { ResolvedRelayOptions } from '../config/ResolvedRelayOptions.js'
import { BUDGET_SCRIPT, CLIENT_SCRIPT } from './storeScripts.js'
import { bucketShape, TokenBucket, type TakenCall } from './TokenBucket.js'

/** The limits every instance of a relay shares: its SMC budget, SMC's pause, the per-client counts. */
export interface SharedLimits {
  /** Takes one SMC call from the budget if it can be made within `maxWaitMs` (see {@link TokenBucket.take}). */
  take(maxWaitMs: number): Promise<TakenCall>
  /** SMC said it is over quota: no instance calls it for `ms`. */
  pause(ms: number): Promise<void>
  /**
   * Counts a request of `client`: resolves the milliseconds to wait when over its requests or
   * its SMC calls a minute, else 0.
   */
  hit(client: string): Promise<number>
  /** Adds `milliCalls` thousandths of an SMC call to what `client` cost this minute. */
  charge(client: string, milliCalls: number): Promise<void>
  /**
   * Whether the shared store answers, as last seen at most {@link READY_MAX_AGE_MS} ago; `true`
   * without one.
   */
  ready(): Promise<boolean>
}

/** A store slower than this is taken as unreachable: browsers must not wait on it. */
const STORE_TIMEOUT_MS = 500
/** While the store is unreachable, how often it is tried again. */
const STORE_RETRY_MS = 1000
/**
 * How old the store's state may be for readiness: probes, however many, then cost the store one
 * round trip a second at most, and none while requests show its state anyway.
 */
const READY_MAX_AGE_MS = 1000

/**
 * Without `config.store`, this instance's share of the limits (`budgetPerMinute` and
 * `rateLimitPerClient` divided by `instances`) in memory. With it, the limits are shared through
 * the store, under keys named by the SMC tenant and a hash of the API key, so that relays of two
 * keys (staging, production) on one Redis never share a budget. While the store is unreachable
 * or slow, each instance falls back to its share, its budget starting empty (the shared one may
 * just have been spent); once the store is back, its calls are taken off the shared budget as far
 * as they went beyond it (see BUDGET_SCRIPT). It tries the store again every second, and logs
 * each change of state once.
 */
export function createSharedLimits(
  config: ResolvedRelayOptions,
  log: (entry: RelayLogEntry) => void,
): SharedLimits {
  const { store, instances, metrics } = config
  const budget = new TokenBucket(Math.max(1, Math.floor(config.budgetPerMinute / instances)))
  const perClient = Math.ceil(config.rateLimitPerClient / instances)
  const clientCalls = Math.ceil(config.clientCallsPerMinute / instances)
  const clients = createClientLimiter(perClient, clientCalls)
  const unlimited = config.rateLimitPerClient === 0 && config.clientCallsPerMinute === 0
  const takeLocally = (maxWaitMs: number): TakenCall => {
    const call = budget.take(maxWaitMs)
    metrics?.budget(budget.left())
    return call
  }
  if (!store) {
    return {
      take: async (maxWaitMs) => takeLocally(maxWaitMs),
      pause: async (ms) => budget.pause(ms),
      hit: async (client) => clients.hit(client),
      charge: async (client, milliCalls) => clients.charge(client, milliCalls),
      ready: async () => true,
    }
  }

  const { burst, refillPerMs } = bucketShape(config.budgetPerMinute)
  const prefix = keyPrefix(config)
  let shared = true
  let retryAt = 0
  /** When the store last answered or failed; `shared` is its state since. */
  let seenAt = -Infinity
  /** The readiness check in flight, which probes arriving meanwhile wait for instead of their own. */
  let checking: Promise<unknown> | undefined
  /** Calls taken from the fallback budget since the store last answered a take; `undefined`: it did. */
  let debt: number | undefined
  /** The shared budget's `born` and `spare` as the store last gave them (see BUDGET_SCRIPT). */
  let bornSeen = -1
  let spareSeen = 0

  /** Runs `script` on the store, or, while it is unreachable, resolves `undefined`. */
  const run = async (script: string, key: string, args: readonly unknown[]) => {
    if (!shared && Date.now() < retryAt) return undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const reply = await Promise.race([
        prefix.then((p) => store.eval(script, [`${p}:${key}`], args.map(String))),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${STORE_TIMEOUT_MS} ms`)),
            STORE_TIMEOUT_MS,
          )
        }),
      ])
      const numbers = (reply as unknown[]).map(Number)
      seenAt = Date.now()
      if (!shared) {
        shared = true
        log({ level: 'info', event: 'store_back', message: 'The shared store answers again' })
        metrics?.store(true)
      }
      return numbers
    } catch (error) {
      seenAt = Date.now()
      retryAt = seenAt + STORE_RETRY_MS
      if (shared) {
        shared = false
        // What was taken before may have spent the shared budget: the fallback starts empty.
        budget.pause(0)
        debt ??= 0
        log({
          level: 'warn',
          event: 'store_lost',
          message: `The shared store cannot be used (${error instanceof Error ? error.message : String(error)}); each instance keeps to its share of the budget until it answers again`,
        })
        metrics?.store(false)
      }
      return undefined
    } finally {
      clearTimeout(timer)
    }
  }

  const runBudget = async (owed: number, pauseMs: number, maxWaitMs: number) => {
    const reply = await run(BUDGET_SCRIPT, 'budget', [
      burst,
      refillPerMs,
      owed,
      bornSeen,
      spareSeen,
      pauseMs,
      maxWaitMs,
    ])
    if (reply) [, , , bornSeen = -1, spareSeen = 0] = reply
    return reply
  }

  return {
    async take(maxWaitMs) {
      // Claimed before the round trip: takes running meanwhile must not pay the same calls again,
      // nor leave a negative debt that would skip the hand-over after the next outage.
      const owed = debt
      debt = undefined
      const reply = await runBudget(owed ?? -1, 0, maxWaitMs)
      if (!reply) {
        const call = takeLocally(maxWaitMs)
        debt = (debt ?? 0) + (owed ?? 0) + (call.taken ? 1 : 0)
        return call
      }
      const [waitMs = 0, taken, left = 0] = reply
      metrics?.budget(left)
      return { waitMs, taken: taken === 1 }
    },
    async pause(ms) {
      budget.pause(ms)
      await runBudget(-1, ms, 0)
    },
    async hit(client) {
      if (unlimited) return 0
      const reply = await run(CLIENT_SCRIPT, `client:${client}`, [WINDOW_MS, 1, 0])
      if (!reply) return clients.hit(client)
      const [count = 0, leftMs = 0, milliCalls = 0] = reply
      return clientWaitMs(
        count,
        milliCalls,
        WINDOW_MS - leftMs,
        config.rateLimitPerClient,
        config.clientCallsPerMinute,
      )
    },
    async charge(client, milliCalls) {
      if (config.clientCallsPerMinute === 0) return
      const reply = await run(CLIENT_SCRIPT, `client:${client}`, [WINDOW_MS, 0, milliCalls])
      if (!reply) clients.charge(client, milliCalls)
    },
    async ready() {
      if (Date.now() - seenAt >= READY_MAX_AGE_MS) {
        // Any script's round trip tells; this one leaves a key that expires within a second.
        checking ??= run(CLIENT_SCRIPT, 'ready', [STORE_RETRY_MS, 0, 0]).finally(() => {
          checking = undefined
        })
        await checking
      }
      return shared
    },
  }
}

/** `selligent-relay:<SMC host>:<first 16 hex digits of the API key's SHA-256>`. */
async function keyPrefix(config: ResolvedRelayOptions): Promise<string> {
  const apiKey = config.apiKeyHeader.slice(0, config.apiKeyHeader.indexOf(':'))
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(apiKey))
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
  return `selligent-relay:${new URL(config.smcApiUrl).host}:${hex.slice(0, 16)}`
}
