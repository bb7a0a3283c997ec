// The `selligent-relay` bin: starts from the environment, refuses a bad one naming each problem.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import {
  API_KEY,
  API_SECRET,
  eventRow,
  EVENTS_PATH,
  EVENTS_QUERY,
  ORGANIZATION,
} from './harness.mjs'
import { createSmcSimulator } from '../smc-simulator/createSmcSimulator.mjs'

const CLI = fileURLToPath(new URL('../../dist/relay-cli.js', import.meta.url))
const sim = createSmcSimulator({
  apiKey: API_KEY,
  apiSecret: API_SECRET,
  organization: ORGANIZATION,
})
let smcUrl = ''
before(async () => {
  smcUrl = (await sim.listen()).url
})
after(() => sim.close())

/** Runs the CLI with only the given environment (and PATH), collecting its output. */
function run(env) {
  const child = spawn(process.execPath, [CLI], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = { stdout: '', stderr: '' }
  child.stdout.on('data', (chunk) => (output.stdout += chunk))
  child.stderr.on('data', (chunk) => (output.stderr += chunk))
  return { child, output }
}

describe('selligent-relay CLI', () => {
  test('starts from the environment and relays', async () => {
    const { child, output } = run({
      SMC_ADMIN_URL: smcUrl,
      SMC_ORGANIZATION: ORGANIZATION,
      SMC_API_KEY: API_KEY,
      SMC_API_SECRET: API_SECRET,
      RELAY_COALESCE_WINDOW_MS: '5',
      PORT: '0',
      HOST: '127.0.0.1',
    })
    try {
      const url = await new Promise((resolve, reject) => {
        child.stdout.on('data', () => {
          const match = /listening on (http:\/\/\S+)/.exec(output.stdout)
          if (match) resolve(match[1])
        })
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${output.stderr}`)))
      })
      const response = await fetch(`${url}${EVENTS_PATH}?${EVENTS_QUERY}`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: JSON.stringify([eventRow('cli-1')]),
      })
      assert.equal(response.status, 200, await response.clone().text())
      assert.equal((await response.json()).result_code, 'Succeeded')
      assert.equal(sim.state().lists.segment_events.records[0].fields.EVENT_ID, 'cli-1')
    } finally {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
    assert.match(output.stdout, /"event":"forwarded"/, 'logs each SMC call as a JSON line')
    assert.ok(!`${output.stdout}${output.stderr}`.includes(API_SECRET))
    assert.ok(!`${output.stdout}${output.stderr}`.includes(API_KEY))
  })

  test('refuses a bad environment with exit code 2, naming each problem', async () => {
    const { child, output } = run({
      SMC_ADMIN_URL: 'acme.slgnt.eu',
      SMC_API_SECRET: API_SECRET,
      RELAY_BUDGET_PER_MINUTE: 'lots',
      RELAY_ALLOWED_ORIGINS: 'shop.example',
      PORT: 'http',
    })
    const [code] = await once(child, 'exit')
    assert.equal(code, 2)
    for (const name of [
      'SMC_ADMIN_URL',
      'SMC_ORGANIZATION',
      'SMC_API_KEY',
      'RELAY_BUDGET_PER_MINUTE',
      'RELAY_ALLOWED_ORIGINS',
      'PORT',
    ]) {
      assert.match(output.stderr, new RegExp(`${name}`), name)
    }
    assert.match(output.stderr, /"acme.slgnt.eu"/, 'shows the bad value')
    assert.ok(!output.stderr.includes(API_SECRET))
    assert.equal(output.stdout, '')
  })
})
