import { DIRECT_KEYS, SETTING_KEYS } from '../plugin/resolveSettings.js'

/** Settings whose attribute is taken as written; the others are read as JSON where they parse. */
const TEXT_KEYS = ['organization', 'eventsDataListApiName', 'proxyUrl']

/** What the `data-*` attributes of a script tag say. */
export interface ScriptSettings {
  /** Settings for the plugin; a value that does not convert stays text, for its validation to name. */
  readonly settings: Record<string, unknown>
  /** Problems the plugin cannot see: credentials in markup. */
  readonly problems: readonly string[]
}

/** `proxyUrl` → `data-proxy-url`. */
export const attributeOf = (key: string): string =>
  `data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

function convert(key: string, text: string): unknown {
  if (key === 'allowedEvents') {
    return text
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean)
  }
  if (TEXT_KEYS.includes(key)) return text
  // A bare attribute (`data-debug`) is on, as HTML boolean attributes are.
  if (text === '') return true
  try {
    return JSON.parse(text) as unknown // true, 100, {"CONTEXT": null}
  } catch {
    return text
  }
}

/**
 * Reads the settings from a script tag's `data-*` attributes (`data-allowed-events` is
 * `dataset.allowedEvents`: the camelCase keys are the settings' own), or `undefined` when it has
 * none (the tag then only defines the global). Attributes that name no setting are not ours.
 * SMC credentials are refused: in markup every visitor reads them (see README, "Script tag").
 * Without `data-proxy-url` the settings still name it, so the plugin reports it missing rather
 * than asking for the credentials refused here.
 */
export function settingsFromScript(data: DOMStringMap): ScriptSettings | undefined {
  const settings: Record<string, unknown> = {}
  const problems: string[] = []
  for (const key of SETTING_KEYS) {
    const text = data[key]
    if (text === undefined) continue
    if (DIRECT_KEYS.includes(key)) {
      problems.push(
        `${attributeOf(key)} is refused (every visitor could read it): use data-proxy-url`,
      )
    } else settings[key] = convert(key, text)
  }
  if (!problems.length && !Object.keys(settings).length) return undefined
  settings.proxyUrl ??= ''
  return { settings, problems }
}
