import type { IpBytes } from '../gate/parseIp.js'
import type { RelayMetrics } from '../RelayMetrics.js'
import type { RelayStore } from '../limits/RelayStore.js'
import type { RelayLogEntry } from './RelayOptions.js'

/** A static segment browsers may change, from {@link RelayOptions.segments}. */
export interface AllowedSegment {
  /** The user list's api name. */
  readonly list: string
  /** The segment's api name. */
  readonly segment: string
  /** The one field rows match on, the same for every segment of the list. */
  readonly matchKey: string
  /** Whether REMOVE is allowed; ADD always is. */
  readonly remove: boolean
}

/**
 * Marks options resolved by the relay itself, so that an entry point handed them (the CLI hands
 * startRelayServer those it resolved to report every problem at once) does not resolve them again.
 * No caller outside the relay can make one.
 */
export const RESOLVED: unique symbol = Symbol('resolved')

/** {@link RelayOptions} after validation, every default applied. */
export interface ResolvedRelayOptions {
  /** Marks them resolved. */
  readonly [RESOLVED]: true
  /** Base URL of SMC's API: the admin URL followed by `/Portal/Api`. */
  readonly smcApiUrl: string
  /** See {@link RelayOptions.organization}. */
  readonly organization: string
  /** The `X-ApiKey` header value, `key:secret`. */
  readonly apiKeyHeader: string
  /** Strings that must never leave the relay: the key, the secret and their join. */
  readonly secrets: readonly string[]
  /** See {@link RelayOptions.basePath}: `''` for the root. */
  readonly basePath: string
  /** See {@link RelayOptions.eventsList}. */
  readonly eventsList: string
  /** Event columns in the order of a row; the first is the upsert key. */
  readonly columns: readonly string[]
  /** See {@link RelayOptions.segments}: each allowed segment by `LIST/SEGMENT`. */
  readonly segments: ReadonlyMap<string, AllowedSegment>
  /** See {@link RelayOptions.identitySecrets}. */
  readonly identitySecrets: readonly string[]
  /** See {@link RelayOptions.identityMaxLifetimeS}. */
  readonly identityMaxLifetimeS: number
  /** See {@link RelayOptions.allowedOrigins}: whether an `Origin` header's value is allowed. */
  readonly allowsOrigin: (origin: string) => boolean
  /** See {@link RelayOptions.budgetPerMinute}. */
  readonly budgetPerMinute: number
  /** See {@link RelayOptions.instances}. */
  readonly instances: number
  /** See {@link RelayOptions.store}. */
  readonly store: RelayStore | undefined
  /** See {@link RelayOptions.coalesce}. */
  readonly coalesce: boolean
  /** See {@link RelayOptions.coalesceWindowMs}. */
  readonly coalesceWindowMs: number
  /** See {@link RelayOptions.maxCoalesceWaitMs}. */
  readonly maxCoalesceWaitMs: number
  /** See {@link RelayOptions.maxRows}. */
  readonly maxRows: number
  /** See {@link RelayOptions.maxBytes}. */
  readonly maxBytes: number
  /** See {@link RelayOptions.rateLimitPerClient}. */
  readonly rateLimitPerClient: number
  /** See {@link RelayOptions.clientBudgetPercent}: SMC calls one client may cost in a minute, 0 for no limit. */
  readonly clientCallsPerMinute: number
  /** Lower-cased header name, or `undefined` for the socket address. */
  readonly clientAddressHeader: string | undefined
  /** See {@link RelayOptions.trustedProxies}: whether an address is one of them. */
  readonly isTrustedProxy: (ip: IpBytes) => boolean
  /** See {@link RelayOptions.timeoutMs}. */
  readonly timeoutMs: number
  /** See {@link RelayOptions.maxSmcCalls}. */
  readonly maxSmcCalls: number
  /** See {@link RelayOptions.maxBufferedBytes}. */
  readonly maxBufferedBytes: number
  /** See {@link RelayOptions.bodyTimeoutMs}. */
  readonly bodyTimeoutMs: number
  /** See {@link RelayOptions.logIntervalMs}. */
  readonly logIntervalMs: number
  /** See {@link RelayOptions.fetch}. */
  readonly fetch: typeof fetch
  /** See {@link RelayOptions.log}. */
  readonly log: (entry: RelayLogEntry) => void
  /** See {@link RelayOptions.metrics}. */
  readonly metrics: RelayMetrics | undefined
}
