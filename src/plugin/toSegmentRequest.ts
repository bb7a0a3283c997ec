import type { SegmentEvent } from '@segment/analytics-next'
import type { Target } from '../transport/types.js'
import { isApiName } from './columns.js'
import { cell } from './toEventRow.js'

/** A group call as SMC's static segment request, or why it cannot be one. */
export type SegmentRequest =
  | { readonly target: Target; readonly row: readonly [string]; readonly problem?: undefined }
  | { readonly problem: string }

/**
 * Maps a `group` call to a static segment ADD or REMOVE (design §3): `groupId` names the segment,
 * `userId` is the value matched, `traits.matchkey` the field of `traits.userlist` it is matched on.
 */
export function toSegmentRequest(event: SegmentEvent, organization: string): SegmentRequest {
  const traits = (event.traits ?? {}) as Record<string, unknown>
  const method = traits.method === undefined ? 'ADD' : String(traits.method).toUpperCase()
  const names = {
    groupId: event.groupId,
    'traits.userlist': traits.userlist,
    'traits.matchkey': traits.matchkey,
  }
  for (const [name, value] of Object.entries(names)) {
    if (value === undefined || value === null || value === '')
      return { problem: `${name} is missing` }
    if (!isApiName(value))
      return { problem: `${name} ${JSON.stringify(cell(value))} is not an SMC api name` }
  }
  if (!event.userId) return { problem: 'userId is missing' }
  if (method !== 'ADD' && method !== 'REMOVE') {
    return { problem: `traits.method ${JSON.stringify(cell(traits.method))} is not ADD or REMOVE` }
  }
  const segment = `/organizations/${encodeURIComponent(organization)}/lists/${names['traits.userlist'] as string}/segments/${names.groupId as string}`
  const key = names['traits.matchkey'] as string
  return {
    target: {
      method: method === 'ADD' ? 'POST' : 'DELETE',
      path: method === 'ADD' ? `${segment}/data/load` : `${segment}/data`,
      query: `keyFields=${key}&fields=${key}`,
    },
    row: [cell(event.userId)],
  }
}
