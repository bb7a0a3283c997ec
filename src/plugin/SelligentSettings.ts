import type { StandardColumn } from '../smc/columns.js'

/**
 * Settings of {@link selligentPlugin}: the ten settings of Segment's Selligent Marketing Cloud
 * destination (same keys) plus browser-only delivery tuning, in one of two modes: through a relay
 * that holds the SMC credentials (`proxyUrl`, recommended), or direct to SMC with credentials every
 * visitor can read. Settings naming neither mode do not compile.
 */
export type SelligentSettings = SelligentCommonSettings & (SelligentProxyMode | SelligentDirectMode)

/** Proxy mode: rows go to a relay, which holds the SMC credentials. */
export interface SelligentProxyMode {
  /**
   * Base URL of a relay that holds the SMC credentials (relative like `/smc`, or absolute). It
   * stands in for `{smcAdminUrl}/Portal/Api`.
   */
  proxyUrl: string
  smcAdminUrl?: never
  apiKey?: never
  apiSecret?: never
}

/** Direct mode: rows go to SMC itself, with credentials every visitor of the page can read. */
export interface SelligentDirectMode {
  proxyUrl?: never
  /** The SMC admin URL, `https://{company}.slgnt.us`. */
  smcAdminUrl: string
  /** Service-account key. */
  apiKey: string
  /** Service-account secret — visible to every visitor of the page. */
  apiSecret: string
}

/** The settings of both modes. */
export interface SelligentCommonSettings {
  /** SMC organization name (shown top-right in SMC). Required. */
  organization: string
  /** `track` event names to send; exact, case-sensitive. Required (may be empty). */
  allowedEvents: readonly string[]
  /** Api name of the data list that receives event rows. Default `segment_events`. */
  eventsDataListApiName?: string
  /**
   * Consent categories the visitor must have granted, every one, for a call to be sent: read from
   * the `context.consent.categoryPreferences` that Segment's consent tools stamp on each event. A
   * call without them is not sent (fail closed); one whose preferences withdraw a category discards
   * every row not sent yet, in every tab (docs/consent.md). Default none: no consent check.
   */
  consentCategories?: readonly string[]
  /** Send `alias` calls. Default `false`. */
  sendAliasEvents?: boolean
  /** Send `group` calls (static segment add/remove). Default `false`. */
  sendGroupEvents?: boolean
  /** Send `page` calls. Default `false`. */
  sendPageEvents?: boolean
  /** Send `screen` calls. Default `false`. */
  sendScreenEvents?: boolean
  /**
   * The signed-in visitor's identity token, minted by the site's backend, for a relay that
   * changes segment membership only for the visitor a token names (docs/relay.md#signed-identity):
   * the token, or a function returning the current one (`undefined` while nobody is signed in:
   * then group calls are not sent). Sent with group calls only; without it, none is sent.
   */
  identityToken?: string | (() => string | undefined)
  /**
   * Rename a standard event column (`{ PROPERTIES: 'PROPS' }`) or drop it (`{ CONTEXT: null }`).
   * `EVENT_ID` can be renamed, not dropped. Default: the nine standard columns.
   */
  columns?: Partial<Record<StandardColumn, string | null>>
  /** Rows per request at most. Default `100`. */
  batchSize?: number
  /** Milliseconds a row waits for others before it is sent. Default `1000`. */
  flushInterval?: number
  /**
   * Rows kept in `localStorage` at most; past it the oldest are held in memory only (sent first,
   * lost if the page dies). Default `5000`.
   */
  maxQueueRows?: number
  /**
   * Bytes of rows kept in `localStorage` at most, counted as stored (row JSON, id, attempt
   * count); past it the oldest are held in memory only. Default `1000000`.
   */
  maxQueueBytes?: number
  /**
   * Rows held at most, stored or in memory only (and calls made before `load()`); past it the
   * oldest are dropped. Default `15000`.
   */
  maxMemoryRows?: number
  /** Bytes of rows held at most, counted as stored; past it the oldest are dropped. Default `15000000`. */
  maxMemoryBytes?: number
  /** Tries per row before it is dropped with an error. Default `10`. */
  maxAttempts?: number
  /** Keep the queue in `localStorage` so rows survive reloads and crashes. Default `true`. */
  persist?: boolean
  /**
   * Log every request and its answer, and why each call was not sent, to the console at the info
   * level (shown by default). Without it only warnings and errors are logged, each once. Default
   * `false`.
   */
  debug?: boolean
}
