import type { RelayMetrics } from '../RelayMetrics.js'
import type { RelayStore } from '../limits/RelayStore.js'

/** One structured log line of the relay. Never carries the API key or secret. */
export interface RelayLogEntry {
  /**
   * `info`: an SMC call was made, or a client went away. `warn`: a request was refused, a bound
   * reached, or SMC failed. `error`: a bug, or a misconfiguration only the operator can fix.
   */
  readonly level: 'info' | 'warn' | 'error'
  /** A stable name of what happened, e.g. `forwarded`, `rejected`, `smc_failed`, `misconfigured`. */
  readonly event: string
  /** A sentence for humans. */
  readonly message: string
  /**
   * Details: status, error code, target, row and caller counts, duration; on the line that
   * closes an interval (`logIntervalMs`), `repeated`: how many more entries of its kind there were.
   */
  readonly [detail: string]: unknown
}

/**
 * How to rename or drop the standard event columns; the same shape as the plugin's `columns`
 * setting, so both sides can share one literal. `EVENT_ID` may be renamed, not dropped.
 */
export type EventColumns = Partial<Record<string, string | null>>

/** Options of {@link createRelay}; each has a CLI environment variable of the same meaning. */
export interface RelayOptions {
  /** `SMC_ADMIN_URL`: the tenant's admin URL without a path, e.g. `https://acme.slgnt.eu`. https only, except for loopback hosts. */
  readonly smcAdminUrl: string
  /** `SMC_ORGANIZATION`: the organization every forwarded path must name. */
  readonly organization: string
  /** `SMC_API_KEY`: key of the SMC service account. */
  readonly apiKey: string
  /** `SMC_API_SECRET`: secret of the SMC service account. Never logged, never answered. */
  readonly apiSecret: string
  /**
   * `RELAY_BASE_PATH`: the path the relay is mounted at inside a site's app, e.g. `/smc`, as
   * browsers request it: the relay then serves `/smc/organizations/…`, `/smc/status` and
   * `/smc/ready`, and answers any other path 404. Segments of letters, digits, `.`, `_`, `~` and
   * `-`, each after a `/`, none of them `.` or `..`. Default none: the root.
   */
  readonly basePath?: string
  /** `SMC_EVENTS_LIST`: api name of the data list that receives event rows. Default `segment_events`. */
  readonly eventsList?: string
  /** `SMC_EVENTS_COLUMNS` (JSON): renamed or dropped event columns, as in the plugin's `columns` setting. Default: the nine standard columns. */
  readonly columns?: EventColumns
  /**
   * `SMC_SEGMENTS` (comma-separated): the static segments browsers may change, each
   * `LIST/SEGMENT:MATCH_KEY`, with `:remove` after it to allow REMOVE as well as ADD
   * (`USERS/Newsletter:MAIL,USERS/VIP:MAIL:remove`). A request must name exactly that match key;
   * every segment of one list matches on the same field. Default none: group calls are refused.
   */
  readonly segments?: readonly string[]
  /**
   * `RELAY_IDENTITY_SECRETS` (comma-separated): secrets, 32 characters at least, that the site's
   * backend signs identity tokens with (docs/relay.md, "Signed identity"). With any, a segment
   * change is forwarded only with a valid token whose subject is the key value of every row; the
   * first signs, the others are still accepted while a rotation completes. Default none: segment
   * changes are not bound to a visitor.
   */
  readonly identitySecrets?: readonly string[]
  /**
   * `RELAY_IDENTITY_MAX_LIFETIME_S`: how far in the future a token's expiry may lie, in seconds;
   * a token valid for longer is refused. Default 86,400 (a day).
   */
  readonly identityMaxLifetimeS?: number
  /**
   * `RELAY_ALLOWED_ORIGINS` (comma-separated): origins allowed to call cross-origin, each exact
   * (`https://shop.example`) or with one wildcard label (`https://*.shop.example`: any one label
   * in its place, not the bare domain, not deeper ones), never in front of a public suffix
   * (`https://*.github.io`). Default none: same-origin or no `Origin` only.
   */
  readonly allowedOrigins?: readonly string[]
  /**
   * `RELAY_BUDGET_PER_MINUTE`: SMC calls per minute all instances of this relay may make together
   * (SMC allows 2,500 per key). Default 2500.
   */
  readonly budgetPerMinute?: number
  /**
   * `RELAY_INSTANCES`: how many instances run behind the load balancer. Without a `store`, each
   * keeps to its share of `budgetPerMinute` and `rateLimitPerClient` (divided by this); with one,
   * that share is its fallback while the store is unreachable. Default 1.
   */
  readonly instances?: number
  /**
   * Where all instances share the budget, SMC's pause and the per-client counts (a Redis; the
   * CLI and `startRelayServer` make it from `redisUrl`). Default none: each instance keeps its own.
   */
  readonly store?: RelayStore
  /**
   * `RELAY_COALESCE` (`true` or `false`): whether requests for one target share SMC calls. `false`:
   * each request makes its own, for runtimes where a request cannot wait on another's I/O
   * (Cloudflare Workers cancels it as hung). Default `true`.
   */
  readonly coalesce?: boolean
  /** `RELAY_COALESCE_WINDOW_MS`: how long the first request for a target waits for others to share its SMC call. Default 50. */
  readonly coalesceWindowMs?: number
  /**
   * `RELAY_MAX_COALESCE_WAIT_MS`: how much longer a batch may wait, open to more requests, while
   * the budget allows no call; then its callers are answered 429 with `Retry-After`. Default 2,000.
   */
  readonly maxCoalesceWaitMs?: number
  /** `RELAY_MAX_ROWS`: rows per request, and per merged SMC call, at most. Default 500. */
  readonly maxRows?: number
  /** `RELAY_MAX_BYTES`: body bytes per request, and per merged SMC call, at most. Default 1,048,576. */
  readonly maxBytes?: number
  /** `RELAY_RATE_LIMIT_PER_CLIENT`: requests per minute one client may make; 0 turns the limit off. Default 600. */
  readonly rateLimitPerClient?: number
  /**
   * `RELAY_CLIENT_BUDGET_PERCENT`: the share of `budgetPerMinute`, in percent, that one client's
   * requests may cost SMC in a minute: each SMC call is paid by its callers' clients in equal
   * parts, and the re-sends that isolate a refused caller by that caller's client alone. 0 turns
   * the limit off. Default 10.
   */
  readonly clientBudgetPercent?: number
  /**
   * `RELAY_CLIENT_ADDRESS_HEADER`: a header the reverse proxies in `trustedProxies` set to the
   * client's address, believed only on requests from them, and only when it holds an IP address.
   * `x-forwarded-for` is read from the right, past the trusted proxies; any other header (e.g.
   * `x-real-ip`) as one address. Requires `trustedProxies`. Default none: the socket address
   * given by the runtime adapter.
   */
  readonly clientAddressHeader?: string
  /**
   * `RELAY_TRUSTED_PROXIES` (comma-separated): addresses and CIDR ranges, IPv4 or IPv6
   * (`127.0.0.1`, `10.0.0.0/8`, `fd00::/8`), of the reverse proxies whose `clientAddressHeader`
   * is believed; `0.0.0.0/0,::/0` trusts every peer, for a relay no client can reach but through
   * its proxy. Required with `clientAddressHeader`, of no use without it. Default none.
   */
  readonly trustedProxies?: readonly string[]
  /** `RELAY_TIMEOUT_MS`: how long to wait for SMC before answering 503. Default 15,000 (SMC's own timeout). */
  readonly timeoutMs?: number
  /**
   * `RELAY_MAX_SMC_CALLS`: SMC calls in flight at once. A merged call beyond it waits for one to
   * end, and is answered 503 with `Retry-After` if none does within `timeoutMs`. Default 32.
   */
  readonly maxSmcCalls?: number
  /**
   * `RELAY_MAX_BUFFERED_BYTES`: bytes of request bodies held in memory at once, from the first
   * byte read until the request is answered. A request that would pass it is answered 503 with
   * `Retry-After`. Default 16,777,216.
   */
  readonly maxBufferedBytes?: number
  /** `RELAY_BODY_TIMEOUT_MS`: how long a request's body may take to arrive; then 408. Default 10,000. */
  readonly bodyTimeoutMs?: number
  /**
   * `RELAY_LOG_INTERVAL_MS`: repeated log entries of one kind (refusals, aborts, a spent budget,
   * a failing SMC) are written once per interval, then as one line with their count. Default 60,000.
   */
  readonly logIntervalMs?: number
  /** The `fetch` used to call SMC. Default: the global `fetch`. */
  readonly fetch?: typeof fetch
  /** Receives every log entry. Default: warnings and errors as JSON lines on the console. */
  readonly log?: (entry: RelayLogEntry) => void
  /** Receives what the relay does, to count it (the CLI: Prometheus, with `RELAY_METRICS`). Default none. */
  readonly metrics?: RelayMetrics
}
