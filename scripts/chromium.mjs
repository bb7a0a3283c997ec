// How every tool of the project starts Debian's Chromium (tests, demo test, benchmarks): never a
// downloaded browser, and no background traffic, which this machine's closed network refuses.

/** The Chromium binary: `CHROME_PATH`, or Debian's package. */
export const CHROME_PATH = process.env.CHROME_PATH || '/usr/bin/chromium'

/** Flags for a headless run as root in a container. */
export const CHROME_ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]
