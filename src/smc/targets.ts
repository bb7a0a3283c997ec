import type { Target } from './Target.js'

// The places SMC takes rows (docs/design.md#targets). The plugin builds its targets with this
// function, and the relay accepts only paths it makes, so both sides agree by construction. The
// organization is URI-encoded; list, segment and field names are api names, safe in a URL as they
// are.

/**
 * Rows with these `fields` (columns, in order; the first is the upsert or match key) for a data
 * list — event rows upserted into the events list — or, with `segment`, users added to it (`add`)
 * or removed from a static segment of a user list.
 */
export function smcTarget(
  organization: string,
  list: string,
  fields: readonly string[],
  segment?: string,
  add?: boolean,
): Target {
  const path = `/organizations/${encodeURIComponent(organization)}/lists/${list}${segment ? `/segments/${segment}` : ''}/data`
  return {
    method: segment && !add ? 'DELETE' : 'POST',
    path: segment && !add ? path : `${path}/load`,
    query: `keyFields=${fields[0] as string}&fields=${fields.join()}`,
  }
}

/**
 * The query parameter a segment change carries its identity token in (docs/relay.md#signed-identity):
 * browsers send these with `navigator.sendBeacon` too, which sets no header. The relay reads it and
 * never forwards it to SMC.
 */
export const IDENTITY_PARAMETER = 'identityToken'
