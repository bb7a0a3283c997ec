import type { SegmentEvent } from '@segment/analytics-next'
import { clip, MAX_STRING, toJsonText } from './toJsonText.js'

/** Context keys kept in the CONTEXT cell: what SMC can segment on, not the library's internals. */
const CONTEXT_KEYS = ['page', 'userAgent', 'locale', 'timezone', 'campaign', 'referrer'] as const

/** Ids of an alias known only from analytics-next's `alias` emitter (see {@link toEventRow}). */
export interface AliasIds {
  readonly to: string
  readonly from: string | null
}

/** A cell from a scalar: `""` when absent, text otherwise, clipped like every string. */
export function cell(value: unknown): string {
  try {
    return value == null ? '' : clip(String(value), MAX_STRING)
  } catch {
    return '' // a toString that throws
  }
}

function timestamp(value: unknown): string {
  const time = new Date(value as string)
  return value && !isNaN(+time) ? time.toISOString() : ''
}

function properties(event: SegmentEvent): string {
  // screen events carry their category beside the properties; page events already copy it in.
  return event.type === 'alias'
    ? ''
    : toJsonText(
        event.type === 'identify'
          ? event.traits
          : event.category === undefined
            ? event.properties
            : { category: event.category, ...event.properties },
      )
}

function context(event: SegmentEvent): string {
  const source = event.context
  if (!source) return ''
  const picked: Record<string, unknown> = {}
  for (const key of CONTEXT_KEYS) if (source[key] !== undefined) picked[key] = source[key]
  return toJsonText(picked)
}

/**
 * The event row (docs/design.md#event-rows) in the standard column order, then the kept columns
 * picked by index; every cell a string. `alias` carries the ids analytics-next's emitter reported
 * when the event itself lost them (docs/design.md#alias-calls).
 */
export function toEventRow(
  event: SegmentEvent,
  columns: readonly (readonly [number, string])[],
  fallbackId: string,
  alias?: AliasIds,
): string[] {
  const { type } = event
  const cells = [
    cell(event.messageId ?? fallbackId),
    type,
    cell(type === 'track' ? event.event : type === 'page' || type === 'screen' ? event.name : ''),
    cell(alias ? alias.to : event.userId),
    cell(event.anonymousId),
    type === 'alias'
      ? cell(
          alias?.from ??
            event.previousId ??
            (alias && event.userId !== alias.to ? event.userId : event.anonymousId),
        )
      : '',
    properties(event),
    context(event),
    timestamp(event.timestamp),
  ]
  return columns.map(([index]) => cells[index] as string)
}
