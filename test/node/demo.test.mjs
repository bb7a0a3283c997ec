// `npm run demo` end to end: the demo server as QA starts it (after `npm run build`), the page in
// headless Chromium, every call fired from its buttons, and the SMC pane checked for the rows.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { chromium } from 'playwright-core'
import { CHROME_ARGS, CHROME_PATH } from '../../scripts/chromium.mjs'

const OUTPUT = new URL('../../test-output/', import.meta.url)

let server
let url
let browser

/** Starts `node demo/server.mjs` on a free port and resolves with the URL it prints. */
function startDemo() {
  const child = spawn(process.execPath, ['demo/server.mjs'], {
    cwd: new URL('../..', import.meta.url),
    env: { ...process.env, PORT: '0', SMC_ADMIN_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const found = /http:\/\/localhost:\d+\//.exec(out)
      if (found) resolve({ child, url: found[0].replace('localhost', '127.0.0.1') })
    })
    child.once('exit', (code) => reject(new Error(`demo server exited (${code}): ${out}`)))
  })
}

before(async () => {
  ;({ child: server, url } = await startDemo())
  browser = await chromium.launch({ executablePath: CHROME_PATH, args: CHROME_ARGS })
})

after(async () => {
  await browser?.close()
  server?.kill()
})

test('the demo page fires every call and shows what SMC stored', { timeout: 60_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } })
  const pageErrors = []
  page.on('pageerror', (error) => pageErrors.push(String(error)))
  // Chrome reports a failed load (a missing favicon) as a console error.
  page.on('console', (message) => message.type() === 'error' && pageErrors.push(message.text()))
  await page.goto(url)
  await page.waitForSelector('body[data-ready="true"]')
  assert.equal(await page.locator('#problems li').count(), 0, 'prefilled settings are valid')

  for (const id of [
    'identify',
    'track-allowed',
    'track-blocked',
    'page',
    'screen',
    'alias',
    'group-add',
  ]) {
    const before = await page.locator('#queued tr').count()
    await page.click(`#call-${id}`)
    // Each call adds a line to the plugin pane once analytics-next has run the plugin.
    await page.waitForFunction((n) => document.querySelectorAll('#queued tr').length > n, before)
  }

  const events = page.locator('table[data-list="segment_events"]')
  // identify, allowed track, page, screen, alias, and the identify group needs first: six rows.
  await page.waitForFunction(
    () => document.querySelectorAll('table[data-list="segment_events"] tr').length - 1 >= 6,
    undefined,
    { timeout: 15_000 },
  )
  const text = await events.innerText()
  for (const expected of ['identify', 'Order Completed', 'Home', 'screen', 'alias', '507f191e81']) {
    assert.match(text, new RegExp(expected))
  }
  assert.doesNotMatch(text, /Product Viewed/, 'the blocked track is not stored')
  await page.waitForFunction(() =>
    document
      .querySelector('[data-segment="SegmentToSMCStatic"]')
      ?.textContent.includes('segmenttest@selligent.com'),
  )
  // The blocked track says why it was not sent; the wire pane shows the relay's 200s.
  assert.match(await page.locator('#queued').innerText(), /not sent/)
  assert.ok((await page.locator('#wire li[data-status="200"]').count()) >= 2)

  // Settings are validated live with the plugin's own messages.
  await page.fill('input[name="organization"]', '')
  assert.match(await page.locator('#problems').innerText(), /"organization"/)
  assert.equal(await page.locator('#apply').isDisabled(), true)
  await page.fill('input[name="organization"]', 'acme')

  await mkdir(OUTPUT, { recursive: true })
  await page.screenshot({ path: new URL('demo.png', OUTPUT).pathname, fullPage: true })
  assert.deepEqual(pageErrors, [])
})

test('SMC down, then back: the rows wait and arrive', { timeout: 60_000 }, async () => {
  const page = await browser.newPage()
  await page.goto(url)
  await page.waitForSelector('body[data-ready="true"]')
  await page.click('#reset-smc')
  await page.check('#fault-unavailable')
  await page.click('#call-track-allowed')
  await page.waitForSelector('#wire li[data-status="503"]', { timeout: 15_000 })
  await page.uncheck('#fault-unavailable')
  await page.waitForFunction(
    () =>
      document
        .querySelector('table[data-list="segment_events"]')
        ?.innerText.includes('Order Completed'),
    undefined,
    { timeout: 20_000 },
  )
  assert.match(await page.locator('#stat-retried').innerText(), /[1-9]/)
})

test(
  'leaving the page delivers the queued rows by keepalive or beacon',
  { timeout: 60_000 },
  async () => {
    const page = await browser.newPage()
    await page.goto(url)
    await page.waitForSelector('body[data-ready="true"]')
    await page.click('#reset-smc')
    await page.click('#leave')
    await page.waitForURL(/left\.html/)
    await page.waitForFunction(
      () =>
        (
          document
            .querySelector('table[data-list="segment_events"]')
            ?.innerText.match(/Order Completed/g) ?? []
        ).length >= 3,
      undefined,
      { timeout: 15_000 },
    )
    assert.match(await page.locator('#wire').innerText(), /row\(s\)/)
    await page.screenshot({ path: new URL('demo-left.png', OUTPUT).pathname, fullPage: true })
  },
)

test('a taken port names the variable that picks another', { timeout: 20_000 }, async () => {
  const port = new URL(url).port
  const child = spawn(process.execPath, ['demo/server.mjs'], {
    cwd: new URL('../..', import.meta.url),
    env: { ...process.env, PORT: port, SMC_ADMIN_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (chunk) => (out += chunk))
  child.stderr.on('data', (chunk) => (out += chunk))
  const code = await new Promise((resolve) => child.once('exit', resolve))
  assert.equal(code, 1)
  assert.match(out, new RegExp(`port ${port} is taken; pick another with PORT`))
})

test('SIGTERM to `npm run demo` stops the server too', { timeout: 90_000 }, async () => {
  // A process group of its own, so whatever it leaves behind can be cleaned up below.
  const child = spawn('npm', ['run', 'demo'], {
    cwd: new URL('../..', import.meta.url),
    env: { ...process.env, PORT: '0', SMC_ADMIN_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  })
  try {
    const demoUrl = await new Promise((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (chunk) => {
        out += chunk
        const found = /http:\/\/localhost:\d+\//.exec(out)
        if (found) resolve(found[0].replace('localhost', '127.0.0.1'))
      })
      child.once('exit', (code) => reject(new Error(`npm run demo exited (${code}): ${out}`)))
    })
    assert.equal((await fetch(demoUrl)).status, 200)
    child.kill('SIGTERM')
    // Nothing left behind: within 5 s the port no longer answers.
    let answered = true
    for (let i = 0; i < 50 && answered; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      answered = await fetch(demoUrl).then(
        () => true,
        () => false,
      )
    }
    assert.equal(answered, false, `${demoUrl} still answers after npm run demo was stopped`)
  } finally {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // Already gone, as it should be.
    }
  }
})
