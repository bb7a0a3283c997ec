import type { SegmentEvent } from '@segment/analytics-next'
import { isApiName } from '../smc/isApiName.js'
import { IDENTITY_PARAMETER, smcTarget } from '../smc/targets.js'
import type { Row, Target } from '../smc/Target.js'
import { cell } from './toEventRow.js'

/** Where a row goes and the row itself. */
export interface RowRequest {
  readonly target: Target
  readonly row: Row
}

/**
 * Maps a `group` call to a static segment ADD or REMOVE (docs/design.md#group-calls): `groupId` names the segment,
 * `userId` is the value matched, `traits.matchkey` the field of `traits.userlist` it is matched on.
 * With `identityToken`, the token it gives goes along as the relay's `identityToken` parameter
 * (docs/relay.md#signed-identity), which no browser transport can refuse to carry, beacons
 * included. Returns why it cannot, as a sentence, instead of ever building a malformed request.
 */
export function toSegmentRequest(
  event: SegmentEvent,
  organization: string,
  identityToken?: string | (() => unknown),
): RowRequest | string {
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
  const target = smcTarget(
    organization,
    userlist as string,
    [matchkey as string],
    event.groupId as string,
    verb === 'ADD',
  )
  let query = target.query
  if (identityToken) {
    let token: unknown = identityToken
    try {
      if (typeof identityToken === 'function') token = identityToken()
    } catch {
      // A function that fails gives no token, as one with nobody signed in does.
    }
    if (typeof token !== 'string' || token === '') return 'identityToken gave no token'
    query += `&${IDENTITY_PARAMETER}=${encodeURIComponent(token)}`
  }
  return { target: { ...target, query }, row: [cell(event.userId)] }
}
