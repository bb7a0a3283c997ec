// `npm run test:browser:webkit`: the delivery tests in Debian's WebKitGTK MiniBrowser under Xvfb,
// driven by WebKitWebDriver (scripts/webkit.mjs starts and ends both; see web-test-runner.engines.mjs).
import { deliveryIn } from './web-test-runner.engines.mjs'
import { webkitLauncher } from './scripts/webkit.mjs'

export default deliveryIn(webkitLauncher())
