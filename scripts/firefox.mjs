// How the tests start Firefox: Debian's Firefox ESR, headless, driven by puppeteer-core over
// WebDriver BiDi through @web/test-runner-chrome's launcher (which names the browser "Firefox",
// the name the progress lines and .ci/run's totals go by). Never a downloaded browser.
//
// Debian serves whichever ESR is current (140, later 153 and on), and puppeteer-core follows the
// newest Firefox, so the launcher must not rely on a protocol command only newer engines have.
// The one it met: before each test file web-test-runner sets an 800×600 viewport, and
// puppeteer's BiDi setViewport sends the size (browsingContext.setViewport) together with a screen
// orientation (emulation.setScreenOrientationOverride), which ESR 140 answers "unknown command".
// An orientation means nothing to these tests, so that one answer is tolerated — as puppeteer
// itself tolerates an engine without emulation.setTouchOverride — while the size is sent again on
// its own and must take hold; any other failure stops the run as before.
import { chromeLauncher, puppeteerCore } from '@web/test-runner-chrome'

/** Debian's Firefox ESR: `FIREFOX_PATH`, or the package's binary. */
export const FIREFOX_PATH = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr'

/** The BiDi command that engines older than puppeteer-core's target may lack. */
const ORIENTATION_COMMAND = 'emulation.setScreenOrientationOverride'

/** Whether `error` is the engine saying it has no `command` at all. */
export function isUnknownCommand(error, command) {
  return (
    error instanceof puppeteerCore.ProtocolError &&
    error.message.includes(`(${command}): unknown command`)
  )
}

/**
 * A page whose `setViewport`, when the engine lacks the orientation command, sends the size alone
 * and waits for it: puppeteer sent both at once and gave up at the first refusal, so whether the
 * size took hold is not known until it is asked again on its own.
 */
async function createPage({ context }) {
  const page = await context.newPage()
  const setViewport = page.setViewport.bind(page)
  page.setViewport = async (viewport) => {
    try {
      await setViewport(viewport)
    } catch (error) {
      if (!viewport || !isUnknownCommand(error, ORIENTATION_COMMAND)) throw error
      await page.mainFrame().browsingContext.setViewport({
        viewport: { width: viewport.width, height: viewport.height },
      })
    }
  }
  return page
}

/** The web-test-runner launcher for Debian's Firefox ESR, headless. */
export function firefoxLauncher() {
  return chromeLauncher({
    puppeteer: puppeteerCore,
    launchOptions: { browser: 'firefox', executablePath: FIREFOX_PATH, headless: true },
    createPage,
  })
}
