import type { SegmentEvent } from '@segment/analytics-next'
import type { Row, Target } from '../transport/types.js'
import { isApiName } from '../columns.js'
import { cell } from './toEventRow.js'

/** Where a row goes and the row itself. */
export interface RowRequest {
  readonly target: Target
  readonly row: Row
}

/**
 * Maps a `group` call to a static segment ADD or REMOVE (design §3): `groupId` names the segment,
 * `userId` is the value matched, `traits.matchkey` the field of `traits.userlist` it is matched on.
 * Returns why it cannot, as a sentence, instead of ever building a malformed request.
 */
export function toSegmentRequest(event: SegmentEvent, organization: string): RowRequest | string {
  const { userlist, matchkey, method = 'ADD' } = (event.traits ?? {}) as Record<string, unknown>
  const names = { groupId: event.groupId, 'traits.userlist': userlist, 'traits.matchkey': matchkey }
  for (const [name, value] of Object.entries(names)) {
    if (!isApiName(value))
      return `${name} must be an SMC api name; got ${JSON.stringify(cell(value))}`
  }
  if (!event.userId) return 'userId is missing'
  const verb = cell(method).toUpperCase()
  if (verb !== 'ADD' && verb !== 'REMOVE')
    return `traits.method must be ADD or REMOVE; got ${JSON.stringify(cell(method))}`
  const segment = `/organizations/${encodeURIComponent(organization)}/lists/${userlist as string}/segments/${event.groupId as string}/data`
  const add = verb === 'ADD'
  return {
    target: {
      method: add ? 'POST' : 'DELETE',
      path: add ? `${segment}/load` : segment,
      query: `keyFields=${matchkey as string}&fields=${matchkey as string}`,
    },
    row: [cell(event.userId)],
  }
}
