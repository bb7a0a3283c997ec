import { createHash } from 'node:crypto'
import type * as Redis from '@redis/client'
import { optionLabel } from '../config/envNames.js'
import type { RelayStore } from '../limits/RelayStore.js'

/** A Redis connection serving as the relay's {@link RelayStore}. */
export interface RedisStore {
  /** Runs scripts by their SHA-1 (`EVALSHA`), sending one in full only when Redis lacks it. */
  readonly store: RelayStore
  /** Closes the connection. */
  close(): Promise<void>
}

/**
 * Connects to Redis with `@redis/client` (an optional peer dependency, loaded only here). Node
 * only: loaded on demand by startRelayServer. The connection never holds commands back: while it
 * is down, each fails at once so the relay falls back to its share of the budget, and it keeps
 * reconnecting, a second apart at most, from the start if Redis is down then.
 */
export async function connectRedis(url: string): Promise<RedisStore> {
  let redis: typeof Redis
  try {
    redis = await import('@redis/client')
  } catch {
    throw new Error(
      `${optionLabel('redisUrl')} is set, but @redis/client is not installed: npm install @redis/client`,
    )
  }
  const client = redis.createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 1000,
      reconnectStrategy: (retries: number) => Math.min(100 * (retries + 1), 1000),
    },
  })
  // Losing Redis and getting it back are logged by the relay, once each; an unheard error would end the process.
  client.on('error', () => undefined)
  void client.connect().catch(() => undefined)
  const shas = new Map<string, string>()
  return {
    store: {
      async eval(script, keys, args) {
        const sha = shas.get(script) ?? createHash('sha1').update(script).digest('hex')
        shas.set(script, sha)
        const options = { keys: [...keys], arguments: [...args] }
        try {
          return await client.evalSha(sha, options)
        } catch (error) {
          if (!String(error).includes('NOSCRIPT')) throw error
          return client.eval(script, options)
        }
      },
    },
    async close() {
      // A connection being retried would wait for Redis to answer before closing.
      if (client.isReady) await client.close()
      else if (client.isOpen) client.destroy()
    },
  }
}
