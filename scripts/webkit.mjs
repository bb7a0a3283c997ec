// How the tests start WebKit: Debian's WebKitGTK MiniBrowser (package webkit2gtk-driver), driven
// by its WebKitWebDriver, on a virtual display of its own (package xvfb). Never a downloaded
// browser. The launcher starts Xvfb and the driver on free ports when the run starts and ends
// them when it stops, so nothing has to be running beforehand.
import { spawn } from 'node:child_process'
import { WebdriverLauncher } from '@web/test-runner-webdriver'
import { freePort } from './freePort.mjs'

/** The MiniBrowser binary: `WEBKIT_PATH`, or Debian's package. */
export const WEBKIT_PATH =
  process.env.WEBKIT_PATH || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser'
/** Debian's WebDriver for WebKitGTK. */
export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver'

/** Starts Xvfb on a display it picks itself (-displayfd), resolving to that display number. */
function startXvfb() {
  const xvfb = spawn(
    'Xvfb',
    ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    },
  )
  return new Promise((resolve, reject) => {
    let text = ''
    let errors = ''
    xvfb.stderr.on('data', (chunk) => (errors += chunk))
    xvfb.once('error', reject)
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code}): ${errors}`)))
    xvfb.stdio[3].on('data', (chunk) => {
      text += chunk
      if (text.includes('\n')) resolve({ process: xvfb, display: `:${text.trim()}` })
    })
  })
}

/** Polls the driver's /status until it is ready. */
async function ready(port, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs
  for (;;) {
    try {
      const answer = await fetch(`http://127.0.0.1:${port}/status`)
      if (answer.ok && (await answer.json()).value?.ready) return
    } catch {
      // Not listening yet.
    }
    if (Date.now() > end) throw new Error(`WebKitWebDriver not ready on port ${port}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Ends a child process started here and waits for it to go. */
function end(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

/** A web-test-runner launcher for WebKitGTK's MiniBrowser under its own Xvfb and WebKitWebDriver. */
class WebKitLauncher extends WebdriverLauncher {
  constructor() {
    super({
      hostname: '127.0.0.1',
      port: 0,
      path: '/',
      capabilities: {
        browserName: 'MiniBrowser',
        // webdriverio otherwise asks for a WebDriver BiDi session (webSocketUrl), which
        // WebKitWebDriver cannot match: classic WebDriver is all this launcher uses.
        'wdio:enforceWebDriverClassic': true,
        'webkitgtk:browserOptions': { binary: WEBKIT_PATH, args: ['--automation'] },
      },
    })
  }

  async initialize(config, testFiles) {
    await super.initialize(config, testFiles)
    // web-test-runner's label for the progress lines and the totals .ci/run adds up.
    this.name = 'WebKit'
    this.xvfb = await startXvfb()
    this.options.port = await freePort()
    this.driver_ = spawn(WEBKIT_DRIVER, [`--port=${this.options.port}`], {
      env: { ...process.env, DISPLAY: this.xvfb.display },
      stdio: 'ignore',
    })
    await ready(this.options.port)
  }

  async stop() {
    await super.stop()
    await end(this.driver_)
    await end(this.xvfb?.process)
  }
}

/** The WebKit launcher for a web-test-runner config. */
export const webkitLauncher = () => new WebKitLauncher()
