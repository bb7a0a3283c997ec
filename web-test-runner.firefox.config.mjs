// `npm run test:browser:firefox`: the delivery tests in Debian's Firefox ESR, headless, driven by
// puppeteer-core over WebDriver BiDi (scripts/firefox.mjs starts it; see web-test-runner.engines.mjs).
import { deliveryIn } from './web-test-runner.engines.mjs'
import { firefoxLauncher } from './scripts/firefox.mjs'

export default deliveryIn(firefoxLauncher())
