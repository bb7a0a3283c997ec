import { DIRECT_KEYS, resolveSettings, SETTING_KEYS } from '../plugin/resolveSettings.js'
import { selligentPlugin } from '../plugin/selligentPlugin.js'
import type { SelligentSettings } from '../plugin/SelligentSettings.js'
import { log } from '../log/log.js'
import { registerOnAnalytics, reportFailure } from './registerOnAnalytics.js'

/** Settings whose attribute is a comma-separated list. */
const LIST_KEYS = ['allowedEvents', 'consentCategories']
/** Settings whose attribute is taken as written; the others are read as JSON where they parse. */
const TEXT_KEYS = ['organization', 'eventsDataListApiName', 'proxyUrl', 'identityToken']

/** `proxyUrl` → `data-proxy-url`. */
const attributeOf = (key: string): string =>
  `data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

function convert(key: string, text: string): unknown {
  if (LIST_KEYS.includes(key)) {
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
    return text // left for the plugin's validation to name
  }
}

/**
 * The script-tag drop-in (docs/design.md#script-tag): settings from the script's `data-*` attributes
 * (`data-allowed-events` is `dataset.allowedEvents`: the camelCase keys are the settings' own),
 * and the plugin registered on `window.analytics`. Without such attributes the tag only defines
 * the global. SMC credentials are refused: in markup every visitor reads them
 * (docs/script-tag.md); without `data-proxy-url` the plugin then reports it missing. Bad
 * attributes: one console error naming each, nothing registered. Never throws into the page.
 */
export function dropIn(script: HTMLOrSVGScriptElement | null): void {
  try {
    const data = script?.dataset ?? {}
    const settings: Record<string, unknown> = {}
    const problems: string[] = []
    for (const key of SETTING_KEYS) {
      const text = data[key]
      if (text === undefined) continue
      if (DIRECT_KEYS.includes(key))
        problems.push(`"${key}" is refused: every visitor can read it, use data-proxy-url`)
      else settings[key] = convert(key, text)
    }
    if (!problems.length && !Object.keys(settings).length) return
    settings.proxyUrl ??= ''
    problems.push(...resolveSettings(settings).problems)
    if (problems.length) {
      // The messages name settings ("proxyUrl" must be…); the page author wrote attributes.
      const named = problems.map((problem) =>
        problem.replace(/^"(\w+)/, (_, key: string) => `"${attributeOf(key)}`),
      )
      log('error', `not registered; fix the <script> attributes: ${named.join('; ')}`)
      return
    }
    registerOnAnalytics(selligentPlugin(settings as unknown as SelligentSettings))
  } catch (error) {
    reportFailure(error)
  }
}
