/**
 * The default of every relay option that has a value as its default, in one table that both
 * validation and the CLI read. Documented in RelayOptions.ts and the README ("Configuration"),
 * which test/node/documented-defaults checks against it; not exported by the package, so the
 * docs stay what users rely on. Runtime-neutral: the relay loads on edge runtimes too.
 */
export const RELAY_DEFAULTS = {
  /** `eventsList`: the data list name Segment's destination documents. */
  eventsList: 'segment_events',
  /** `columns`: none renamed or dropped, so all nine standard columns. */
  columns: {},
  /** `userLists`: none, so group calls are refused until a list is named. */
  userLists: [],
  /** `allowedOrigins`: none, so only same-origin and origin-less requests pass. */
  allowedOrigins: [],
  /** `budgetPerMinute`: SMC's limit per API key. */
  budgetPerMinute: 2500,
  /** `coalesceWindowMs`: at most 1,200 calls a minute for one busy target. */
  coalesceWindowMs: 50,
  /** `maxRows`: SMC advises a few hundred rows per load call. */
  maxRows: 500,
  /** `maxBytes`: 1 MiB. */
  maxBytes: 1024 * 1024,
  /** `rateLimitPerClient`: ten requests a second, far above a browser's batching. */
  rateLimitPerClient: 600,
  /** `timeoutMs`: SMC itself times connections out after 15 s. */
  timeoutMs: 15_000,
  /** `host` of the CLI and startRelayServer: loopback, so a relay is never exposed by accident. */
  host: '127.0.0.1',
  /** `port` of the CLI and startRelayServer. */
  port: 8787,
} as const
