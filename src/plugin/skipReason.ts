import type { SegmentEvent } from '@segment/analytics-next'
import { PLUGIN_NAME } from './pluginName.js'
import type { ResolvedSettings } from './resolveSettings.js'

/** The setting that sends each kind of call that is off unless turned on. */
const TOGGLES = {
  alias: 'sendAliasEvents',
  group: 'sendGroupEvents',
  page: 'sendPageEvents',
  screen: 'sendScreenEvents',
} as const satisfies Record<string, keyof ResolvedSettings>

/** Whether the integrations object leaves the plugin on (analytics.js semantics). */
function isEnabled(integrations: Record<string, unknown> | undefined): boolean {
  const own = integrations?.[PLUGIN_NAME]
  return own === undefined ? integrations?.All !== false : own !== false
}

/** Why the settings keep this event from SMC (docs/design.md#filtering); nothing when they don't. */
export function skipReason(
  { type, event, integrations }: SegmentEvent,
  settings: ResolvedSettings,
): string | undefined {
  if (!isEnabled(integrations)) return 'off in integrations'
  if (type === 'identify') return
  if (type === 'track') {
    return settings.allowedEvents.has(event!) ? undefined : 'not in allowedEvents'
  }
  const toggle = TOGGLES[type]
  if (!settings[toggle]) return `${toggle} off`
}
