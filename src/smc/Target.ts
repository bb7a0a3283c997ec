// The wire contract both halves share (docs/design.md#wire-contract): where rows go, and what
// a row is.

/** HTTP methods SMC's load and segment endpoints use. */
export type HttpMethod = 'POST' | 'DELETE'

/**
 * Where rows go. Rows whose targets have the same `method`, `path` and `query` are coalesced
 * into one request body.
 */
export interface Target {
  /** HTTP method of the request. */
  readonly method: HttpMethod
  /** Path below the base URL, starting with `/`, its segments already URI-encoded. */
  readonly path: string
  /** Query string without the leading `?`, already encoded. */
  readonly query: string
}

/** One row of a load body: every cell a string. */
export type Row = readonly string[]
