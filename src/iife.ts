import { dropIn } from './dropIn/dropIn.js'
import { selligentPlugin } from './plugin/selligentPlugin.js'
import { version } from './version.js'

// The script-tag entry (docs/design.md#script-tag).
;(window as unknown as { SelligentMarketingCloud: unknown }).SelligentMarketingCloud = {
  selligentPlugin,
  version,
}
// currentScript is only set while this script first runs: read it in this run, never later.
dropIn(document.currentScript)
