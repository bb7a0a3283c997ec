import type { RESOLVED, ResolvedRelayOptions } from './ResolvedRelayOptions.js'

/** {@link RelayServerOptions} after validation, every default applied. */
export interface ResolvedServerOptions {
  /** Marks them resolved. */
  readonly [RESOLVED]: true
  /** The relay's own options. */
  readonly relay: ResolvedRelayOptions
  /** See {@link RelayServerOptions.port}. */
  readonly port: number
  /** See {@link RelayServerOptions.host}. */
  readonly host: string
  /** See {@link RelayServerOptions.maxConnections}. */
  readonly maxConnections: number
  /** See {@link RelayServerOptions.headerTimeoutMs}. */
  readonly headerTimeoutMs: number
  /** See {@link RelayServerOptions.drainTimeoutMs}. */
  readonly drainTimeoutMs: number
  /** See {@link RelayServerOptions.redisUrl}. */
  readonly redisUrl: string | undefined
  /** See {@link RelayServerOptions.serveMetrics}. */
  readonly serveMetrics: boolean
  /** See {@link RelayServerOptions.metricsToken}. */
  readonly metricsToken: string | undefined
  /** See {@link RelayServerOptions.metricsPort}. */
  readonly metricsPort: number
  /** See {@link RelayServerOptions.metricsHost}. */
  readonly metricsHost: string
}
