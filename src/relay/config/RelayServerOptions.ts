import type { RelayOptions } from './RelayOptions.js'

/** Options of {@link startRelayServer}: the relay's, where to listen, and the server's bounds. */
export interface RelayServerOptions extends RelayOptions {
  /** `PORT`: TCP port; 0 picks a free one. Default 8787. */
  readonly port?: number
  /** `HOST`: address to listen on. Default `127.0.0.1`, so a relay is never exposed by accident. */
  readonly host?: string
  /**
   * `RELAY_MAX_CONNECTIONS`: open connections at most. At the bound, a new connection closes the
   * oldest one that has no request in progress, else the oldest still sending its body, else it
   * is itself refused; stalled clients cannot hold every descriptor, nor keep `/status` from
   * answering. Default 512.
   */
  readonly maxConnections?: number
  /** `RELAY_HEADER_TIMEOUT_MS`: how long a connection may take to send a request's headers; then 408 and closed. Default 10,000. */
  readonly headerTimeoutMs?: number
  /**
   * `RELAY_DRAIN_TIMEOUT_MS`: after {@link RelayServer.close} (the CLI: SIGTERM or SIGINT), how
   * long requests in progress have to be answered; those left are then answered 503 with
   * `Retry-After`, and every connection is closed. Default 20,000.
   */
  readonly drainTimeoutMs?: number
  /**
   * `REDIS_URL`: the Redis all instances share their budget, SMC's pause and the per-client
   * counts through (`rediss://`, or `redis://` on loopback or with `redisAllowPlaintext`; with a
   * password if it needs one; a secret, never logged). Needs the optional peer dependency
   * `@redis/client`; see also `instances`. Default none: each instance keeps its own.
   */
  readonly redisUrl?: string
  /**
   * `RELAY_REDIS_ALLOW_PLAINTEXT` (`true` or `false`): allow `redis://` to a host other than
   * loopback, whose password and shared limits then cross the network in clear text; for a
   * network the operator trusts, such as a private link to a Redis without TLS. Default `false`.
   * Without it, such a URL is refused at start: use `rediss://` (TLS).
   */
  readonly redisAllowPlaintext?: boolean
  /**
   * `RELAY_METRICS` (`true` or `false`): serve Prometheus metrics at `GET /metrics` of a listener
   * of their own (`metricsHost`, `metricsPort`), never on the relay's port. Needs the optional
   * peer dependency `prom-client`. Default `false`.
   */
  readonly serveMetrics?: boolean
  /**
   * `RELAY_METRICS_TOKEN`: when set, `/metrics` answers only requests with
   * `Authorization: Bearer <token>` (a secret, never logged). Default none: anyone who can reach it.
   */
  readonly metricsToken?: string
  /** `RELAY_METRICS_PORT`: TCP port of the metrics listener; 0 picks a free one. Default 9464. */
  readonly metricsPort?: number
  /**
   * `RELAY_METRICS_HOST`: address of the metrics listener. Default `127.0.0.1`, so that only this
   * machine can scrape; without `metricsToken`, a warning at start says who else can.
   */
  readonly metricsHost?: string
}
