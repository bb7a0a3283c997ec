import type { SelligentSettings } from '../plugin/SelligentSettings.js'

/**
 * How each setting is written as a `data-*` attribute: `data-allowed-events` is
 * `dataset.allowedEvents`, so the camelCase keys are the settings' own. `refused`: SMC credentials
 * are not read from markup (see README, "Script tag"). Typed against the settings so a new setting
 * cannot be forgotten here.
 */
const KINDS = {
  organization: 'text',
  allowedEvents: 'list',
  eventsDataListApiName: 'text',
  sendAliasEvents: 'flag',
  sendGroupEvents: 'flag',
  sendPageEvents: 'flag',
  sendScreenEvents: 'flag',
  proxyUrl: 'text',
  smcAdminUrl: 'refused',
  apiKey: 'refused',
  apiSecret: 'refused',
  columns: 'json',
  batchSize: 'number',
  flushInterval: 'number',
  maxQueueRows: 'number',
  maxQueueBytes: 'number',
  maxAttempts: 'number',
  persist: 'flag',
  debug: 'flag',
} as const satisfies Record<keyof SelligentSettings, string>

/** What the `data-*` attributes of a script tag say. */
export interface ScriptSettings {
  /** Settings to hand to the plugin, values converted; unconvertible values are kept as text so the plugin's own validation names them. */
  readonly settings: Record<string, unknown>
  /** Problems the plugin cannot see: credentials in markup. */
  readonly problems: readonly string[]
}

/** `proxyUrl` → `data-proxy-url`. */
export const attributeOf = (key: string): string =>
  `data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

function convert(kind: string, text: string): unknown {
  switch (kind) {
    case 'list':
      return text
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean)
    case 'flag':
      // A bare attribute (`data-debug`) is on, as HTML boolean attributes are.
      return text === '' || text === 'true' ? true : text === 'false' ? false : text
    case 'number':
      return text.trim() && Number.isFinite(+text) ? +text : text
    case 'json':
      try {
        return JSON.parse(text) as unknown
      } catch {
        return text
      }
    default:
      return text
  }
}

/**
 * Reads the settings from a script tag's `data-*` attributes, or `undefined` when it has none of
 * them (the tag then only defines the global). Attributes that name no setting are not ours and
 * are left alone. Without `data-proxy-url` the settings still name it, so the plugin reports it
 * missing rather than asking for direct-mode credentials the drop-in refuses.
 */
export function settingsFromScript(data: DOMStringMap): ScriptSettings | undefined {
  const settings: Record<string, unknown> = {}
  const problems: string[] = []
  let found = false
  for (const [key, kind] of Object.entries(KINDS)) {
    const text = data[key]
    if (text === undefined) continue
    found = true
    if (kind === 'refused') {
      problems.push(
        `${attributeOf(key)} is not accepted: SMC credentials in the page are readable by every visitor; send through a relay with data-proxy-url`,
      )
    } else settings[key] = convert(kind, text)
  }
  if (!found) return undefined
  settings.proxyUrl ??= ''
  return { settings, problems }
}
