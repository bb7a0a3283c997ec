import { isApiName } from '../../smc/isApiName.js'
import { optionLabel } from './envNames.js'
import type { AllowedSegment } from './ResolvedRelayOptions.js'

/**
 * `LIST/SEGMENT:MATCH_KEY[:remove]` entries by `LIST/SEGMENT`; each list on one match key, since
 * rows matched on different fields of one list could name different people with the same value.
 */
export function allowedSegments(
  entries: readonly string[],
  problems: string[],
): ReadonlyMap<string, AllowedSegment> {
  const segments = new Map<string, AllowedSegment>()
  const keyOfList = new Map<string, string>()
  const label = optionLabel('segments')
  for (const entry of Array.isArray(entries) ? entries : [entries]) {
    const [, list = '', segment = '', matchKey = '', remove] =
      /^([^/:]+)\/([^/:]+):([^/:]+)(?::(remove))?$/.exec(String(entry)) ?? []
    if (![list, segment, matchKey].every(isApiName)) {
      problems.push(
        `${label} must hold LIST/SEGMENT:MATCH_KEY entries of SMC api names, :remove after one to allow REMOVE, like USERS/Newsletter:MAIL; got ${JSON.stringify(entry)}`,
      )
      continue
    }
    const name = `${list}/${segment}`
    if (segments.has(name)) problems.push(`${label} names ${name} twice`)
    const listKey = keyOfList.get(list) ?? matchKey
    if (listKey !== matchKey) {
      problems.push(
        `${label} must match every segment of list ${list} on one field; got ${listKey} and ${matchKey}`,
      )
    }
    keyOfList.set(list, listKey)
    segments.set(name, { list, segment, matchKey, remove: remove !== undefined })
  }
  return segments
}
