// The tenant the simulator plays by default: the Segment destination's documented names
// (`segment_events`, the `USERS_SEGMENT` list and `SegmentToSMCStatic` segment of its group
// example) and the nine event columns (docs/design.md#event-rows).

/** @typedef {{ columns: Record<string, number>, segments?: string[] }} ListDefinition
 *  A list: its columns, each with its maximum string length, and its static segments. */

/** Organization served by default. */
export const DEFAULT_ORGANIZATION = 'acme'
/** Service account key accepted by default. */
export const DEFAULT_API_KEY = 'sim-key'
/** Service account secret accepted by default. */
export const DEFAULT_API_SECRET = 'sim-secret'
/** SMC's documented limit: requests per minute per API key. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 2500

/** @type {Record<string, ListDefinition>} */
export const DEFAULT_LISTS = {
  segment_events: {
    columns: {
      EVENT_ID: 100,
      EVENT_TYPE: 20,
      EVENT_NAME: 255,
      USER_ID: 255,
      ANONYMOUS_ID: 255,
      PREVIOUS_ID: 255,
      PROPERTIES: 4000,
      CONTEXT: 4000,
      TIMESTAMP: 50,
    },
  },
  USERS_SEGMENT: {
    columns: { ID: 20, MAIL: 255, NAME: 100, CUSTOMER_ID: 100 },
    segments: ['SegmentToSMCStatic', 'Newsletter'],
  },
}
