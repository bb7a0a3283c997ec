import { resolveSettings } from './resolveSettings.js'
import type { SelligentSettings } from './SelligentSettings.js'

/** Lists every problem of `settings` (empty when they are valid), as `load()` would report them. */
export function validateSettings(settings: SelligentSettings | Record<string, unknown>): string[] {
  return resolveSettings(settings).problems as string[]
}
