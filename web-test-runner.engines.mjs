// What `npm run test:browser:firefox` and `test:browser:webkit` share: the delivery tests again in the two engines besides Chromium
// that visitors use, Firefox (Debian's firefox-esr, headless, driven by puppeteer-core over
// WebDriver BiDi) and WebKit (Debian's WebKitGTK MiniBrowser under Xvfb, driven by
// WebKitWebDriver): calls, page leave, outage and recovery, reload during an outage, several tabs,
// storage full. Same server, page and recorder as the Chromium run (web-test-runner.config.mjs).
// Both engines have every API the transport relies on (Web Locks, keepalive fetch, sendBeacon,
// pagehide); the fallbacks for browsers without them run here too, as in Chromium, by removing
// the API from the page (test/fixtures/transportPage.ts: `nolocks`, `nokeepalive`).
// One engine per run, one after the other: on two cores, two engines at once slow each other
// enough to fail timing-bound tests.
import config from './web-test-runner.config.mjs'

/** The web-test-runner config running the delivery tests in `browser` (a launcher). */
export const deliveryIn = (browser) => ({
  ...config,
  files: [
    'test/browser/delivery.test.ts',
    'test/browser/transport-leave.test.ts',
    'test/browser/transport-offline.test.ts',
    'test/browser/transport-retry.test.ts',
    'test/browser/transport-storage.test.ts',
    'test/browser/transport-tabs.test.ts',
  ],
  browsers: [browser],
  // Firefox and WebKit start slower than Chromium, much slower on a busy CI machine: past the
  // default 30 s, web-test-runner gives up on the first file and navigates the half-started page
  // again, which Firefox refuses ("A new navigation interrupted an unfinished navigation").
  browserStartTimeout: 120_000,
})
