import { selligentPlugin } from '../plugin/selligentPlugin.js'
import type { SelligentSettings } from '../plugin/SelligentSettings.js'
import { validateSettings } from '../plugin/validateSettings.js'
import { registerOnAnalytics } from './registerOnAnalytics.js'
import { attributeOf, settingsFromScript } from './settingsFromScript.js'

/** The plugin's messages name settings (`"proxyUrl" must be…`); the page author wrote attributes. */
const inAttributeTerms = (problem: string): string =>
  problem.replace(/^"(\w+)([^"]*)"/, (_, key: string, rest: string) => attributeOf(key) + rest)

/**
 * The script-tag drop-in (design §5): with settings in its `data-*` attributes, the script
 * registers the plugin on `window.analytics`. Bad attributes: one console error naming each,
 * nothing registered. Never throws into the page.
 */
export function dropIn(script: HTMLOrSVGScriptElement | null): void {
  try {
    const found = script && settingsFromScript(script.dataset)
    if (!found) return
    const settings = found.settings as unknown as SelligentSettings
    const problems = [...found.problems, ...validateSettings(settings).map(inAttributeTerms)]
    if (problems.length) {
      console.error(
        `[Selligent Marketing Cloud] not registered; fix the <script> attributes: ${problems.join('; ')}`,
      )
      return
    }
    registerOnAnalytics(selligentPlugin(settings))
  } catch (error) {
    console.error('[Selligent Marketing Cloud] drop-in failed', error)
  }
}
