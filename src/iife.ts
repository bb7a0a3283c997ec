import { selligentPlugin } from './plugin/selligentPlugin.js'
import { version } from './version.js'

// The script-tag entry: defines the global; the data-attribute drop-in builds on it.
;(window as unknown as { SelligentMarketingCloud: unknown }).SelligentMarketingCloud = {
  selligentPlugin,
  version,
}
