/**
 * The default of every relay option that has a value as its default, in one table that both
 * validation and the CLI read. Documented in RelayOptions.ts and docs/relay.md ("Configuration"),
 * which test/node/documented-defaults checks against it; not exported by the package, so the
 * docs stay what users rely on. Runtime-neutral: the relay loads on edge runtimes too.
 */
export const RELAY_DEFAULTS = {
  /** `eventsList`: the data list name Segment's destination documents. */
  eventsList: 'segment_events',
  /** `columns`: none renamed or dropped, so all nine standard columns. */
  columns: {},
  /** `segments`: none, so group calls are refused until a segment is named. */
  segments: [],
  /** `identitySecrets`: none, so segment changes are not bound to a visitor until one is set. */
  identitySecrets: [],
  /**
   * `identityMaxLifetimeS`: a day, so a token minted at sign-in outlives a visit but a leaked one
   * soon stops working.
   */
  identityMaxLifetimeS: 86_400,
  /** `allowedOrigins`: none, so only same-origin and origin-less requests pass. */
  allowedOrigins: [],
  /** `budgetPerMinute`: SMC's limit per API key. */
  budgetPerMinute: 2500,
  /** `instances`: one relay, which keeps the whole budget. */
  instances: 1,
  /** `coalesce`: shared calls, SMC's budget going furthest. */
  coalesce: true,
  /** `coalesceWindowMs`: at most 1,200 calls a minute for one busy target. */
  coalesceWindowMs: 50,
  /**
   * `maxCoalesceWaitMs`: a browser's batch is in no hurry; at the default budget a call frees up
   * every 27 ms, so two seconds leave room for many instances and targets to take turns.
   */
  maxCoalesceWaitMs: 2000,
  /** `maxRows`: SMC advises a few hundred rows per load call. */
  maxRows: 500,
  /** `maxBytes`: 1 MiB. */
  maxBytes: 1024 * 1024,
  /** `rateLimitPerClient`: ten requests a second, far above a browser's batching. */
  rateLimitPerClient: 600,
  /**
   * `clientBudgetPercent`: ten clients at their share spend the whole budget, and a few flooding
   * ones leave most of it to everyone else.
   */
  clientBudgetPercent: 10,
  /** `trustedProxies`: none, so no header is believed until the proxies setting it are named. */
  trustedProxies: [],
  /** `timeoutMs`: SMC itself times connections out after 15 s. */
  timeoutMs: 15_000,
  /**
   * `maxSmcCalls`: at SMC's usual few hundred milliseconds a call, 32 at once carry far more than
   * the budget allows; a hanging SMC then holds 32 sockets, not one per merged call.
   */
  maxSmcCalls: 32,
  /**
   * `maxBufferedBytes`: 16 MiB, room for 16 bodies at the `maxBytes` bound, or over 250 of the
   * largest the plugin sends (60,000 bytes); parsed rows cost a few times their bytes on top.
   */
  maxBufferedBytes: 16 * 1024 * 1024,
  /** `bodyTimeoutMs`: a browser's body is 60 KB at most, seconds even on a poor mobile link. */
  bodyTimeoutMs: 10_000,
  /** `logIntervalMs`: a minute, the window operators read rates in. */
  logIntervalMs: 60_000,
  /**
   * `maxConnections` of the CLI and startRelayServer: well under the 1,024 file descriptors a
   * process commonly gets, which SMC calls, logs and the listening socket also need.
   */
  maxConnections: 512,
  /** `headerTimeoutMs` of the CLI and startRelayServer: a browser's headers arrive at once. */
  headerTimeoutMs: 10_000,
  /**
   * `drainTimeoutMs` of the CLI and startRelayServer: room for SMC calls in flight to end
   * (`timeoutMs`), and under the 30 s most orchestrators wait after SIGTERM.
   */
  drainTimeoutMs: 20_000,
  /** `host` of the CLI and startRelayServer: loopback, so a relay is never exposed by accident. */
  host: '127.0.0.1',
  /** `port` of the CLI and startRelayServer. */
  port: 8787,
  /**
   * `redisAllowPlaintext` of the CLI and startRelayServer: off, so a Redis password never crosses
   * a network in clear text unless asked for.
   */
  redisAllowPlaintext: false,
  /** `serveMetrics` of the CLI and startRelayServer: off, so nothing is exposed unless asked for. */
  serveMetrics: false,
  /**
   * `metricsPort` of the CLI and startRelayServer: the port Prometheus's list of exporter ports
   * gives the OpenTelemetry exporter, so scrape configurations need no per-site port.
   */
  metricsPort: 9464,
  /**
   * `metricsHost` of the CLI and startRelayServer: loopback, so metrics are not exposed with the
   * relay's public port; a scraper on another machine needs it set.
   */
  metricsHost: '127.0.0.1',
} as const
