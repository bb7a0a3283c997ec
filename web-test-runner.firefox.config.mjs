// `npm run test:browser:firefox`: the delivery tests in Debian's Firefox ESR, headless, driven by
// puppeteer-core over WebDriver BiDi (see web-test-runner.engines.mjs).
import { chromeLauncher, puppeteerCore } from '@web/test-runner-chrome'
import { deliveryIn } from './web-test-runner.engines.mjs'

/** Debian's Firefox ESR: `FIREFOX_PATH`, or the package's binary. */
const FIREFOX_PATH = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr'

// @web/test-runner-chrome's launcher with puppeteer's Firefox support: it names the browser
// "Firefox", which the progress lines and .ci/run's totals go by.
export default deliveryIn(
  chromeLauncher({
    puppeteer: puppeteerCore,
    launchOptions: { browser: 'firefox', executablePath: FIREFOX_PATH, headless: true },
  }),
)
