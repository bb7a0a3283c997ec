import { dropIn } from './dropIn/dropIn.js'
import { selligentPlugin } from './plugin/selligentPlugin.js'
import { version } from './version.js'

// The script-tag entry (docs/design.md#script-tag). currentScript is only set while this script first runs.
const script = document.currentScript
;(window as unknown as { SelligentMarketingCloud: unknown }).SelligentMarketingCloud = {
  selligentPlugin,
  version,
}
dropIn(script)
