// Shared set-up of the relay tests: an SMC simulator on loopback, relays pointed at it, and a
// record of every answer and log line so each test file can scan them all for the credentials.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { request } from 'node:http'
import { after, before, beforeEach } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createRelay } from '../../dist/relay.js'
import { createSmcSimulator } from '../smc-simulator/createSmcSimulator.mjs'

/** Credentials distinctive enough that finding them anywhere is never a coincidence. */
export const API_KEY = 'svc-key-7Qx2LmV'
export const API_SECRET = 'svc-secret-Zq9wP4tR8yK'
export const ORGANIZATION = 'acme'
export const RELAY = 'http://relay.test'
export const COLUMNS = [
  'EVENT_ID',
  'EVENT_TYPE',
  'EVENT_NAME',
  'USER_ID',
  'ANONYMOUS_ID',
  'PREVIOUS_ID',
  'PROPERTIES',
  'CONTEXT',
  'TIMESTAMP',
]
export const EVENTS_PATH = `/organizations/${ORGANIZATION}/lists/segment_events/data/load`
export const EVENTS_QUERY = `keyFields=EVENT_ID&fields=${COLUMNS.join(',')}`
export const SEGMENT_PATH = `/organizations/${ORGANIZATION}/lists/USERS_SEGMENT/segments/SegmentToSMCStatic`
export const SEGMENT_QUERY = 'keyFields=MAIL&fields=MAIL'

/** An event row as the plugin sends it. @param {string} id @param {Partial<Record<string, string>>} [cells] */
export const eventRow = (id, cells = {}) =>
  COLUMNS.map(
    (column) =>
      cells[column] ??
      {
        EVENT_ID: id,
        EVENT_TYPE: 'track',
        EVENT_NAME: 'Order Completed',
        USER_ID: 'u-1',
        TIMESTAMP: '2024-05-01T10:00:00.000Z',
      }[column] ??
      '',
  )

/**
 * @typedef {object} Sent
 * @property {number} status
 * @property {Headers} headers
 * @property {string} text
 * @property {any} body the parsed JSON body, or undefined
 */

/** @param {{ simulator?: object }} [options] */
/**
 * An answer read whole: status, headers, text, and the text parsed as JSON (`undefined` when it
 * is not JSON).
 * @param {Response} response
 */
export async function readAnswer(response) {
  const text = await response.text()
  let body
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: response.status, headers: response.headers, text, body }
}

/**
 * The harness of one test file: created before its tests, the simulator emptied before each, and,
 * after them all, every answer and log line scanned for the credentials and the simulator closed.
 * The object is filled in once `before` has run.
 */
export function useHarness() {
  const harness = {}
  before(async () => Object.assign(harness, await createHarness()))
  beforeEach(() => harness.sim.reset())
  after(() => {
    harness.assertNoSecrets()
    return harness.close()
  })
  return harness
}

/**
 * The SMC simulator of one test file, for tests that start relays of their own (servers, the CLI):
 * listening before its tests, emptied before each, closed after them all. `url` is set once
 * `before` has run. @param {object} [options] further simulator options
 */
export function useSimulator(options = {}) {
  const simulator = { sim: createTestSimulator(options), url: '' }
  before(async () => {
    simulator.url = (await simulator.sim.listen()).url
  })
  beforeEach(() => simulator.sim.reset())
  after(() => simulator.sim.close())
  return simulator
}

/**
 * The options every test relay shares: SMC at `smcAdminUrl`, the test organization and credentials.
 * @param {string} smcAdminUrl
 */
export const smcOptions = (smcAdminUrl) => ({
  smcAdminUrl,
  organization: ORGANIZATION,
  apiKey: API_KEY,
  apiSecret: API_SECRET,
})

/**
 * An SMC simulator that knows the test credentials and organization, not listening yet.
 * @param {object} [options] further simulator options
 */
export const createTestSimulator = (options = {}) =>
  createSmcSimulator({
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    organization: ORGANIZATION,
    ...options,
  })

/**
 * One HTTP request on a connection of its own, its target sent as written (fetch would normalize
 * it), from `localAddress` when given; `Content-Length` is set for a body the headers do not
 * stream. Resolves with the answer's status, headers and text.
 * @param {{ port: number | string, host?: string, localAddress?: string, method?: string,
 *   path: string, headers?: Record<string, string | number>, body?: string }} init
 */
export function rawRequest({
  port,
  host = '127.0.0.1',
  localAddress,
  method = 'POST',
  path,
  headers = {},
  body,
}) {
  const length =
    body === undefined || headers['Transfer-Encoding']
      ? {}
      : { 'Content-Length': Buffer.byteLength(body) }
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, localAddress, agent: false, method, path, headers: { ...length, ...headers } },
      (res) => {
        const chunks = []
        res.on('data', (chunk) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

export async function createHarness(options = {}) {
  const sim = createTestSimulator(options.simulator)
  const server = await sim.listen()
  /** @type {string[]} */
  const seen = []
  /** @type {object[]} */
  const logs = []

  /** A relay on this simulator; options override the test defaults. @param {object} [relayOptions] */
  const makeRelay = (relayOptions = {}) =>
    createRelay({
      ...smcOptions(server.url),
      segments: ['USERS_SEGMENT/SegmentToSMCStatic:MAIL:remove'],
      allowedOrigins: ['https://shop.example'],
      coalesceWindowMs: 5,
      // Every test sends as one client: the cost limit, which would soon stop it, is tested apart.
      clientBudgetPercent: 0,
      log: (entry) => logs.push(entry),
      ...relayOptions,
    })
  const relay = makeRelay()

  /**
   * Sends one request through a relay and records the whole answer.
   * @param {string} pathAndQuery
   * @param {{ method?: string, body?: unknown, headers?: Record<string, string>, client?: object, via?: Function }} [init]
   * @returns {Promise<Sent>}
   */
  const send = async (pathAndQuery, init = {}) => {
    const { method = 'POST', body, headers = {}, client, via = relay } = init
    const request = new Request(`${RELAY}${pathAndQuery}`, {
      method,
      headers: { 'Content-Type': 'text/plain', ...headers },
      ...(body === undefined
        ? {}
        : {
            body:
              typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
          }),
    })
    const response = await via(request, client)
    return record(response)
  }

  /** @param {Response} response */
  const record = async (response) => {
    const answer = await readAnswer(response)
    seen.push(`${answer.status} ${JSON.stringify([...answer.headers])} ${answer.text}`)
    return answer
  }

  return {
    sim,
    server,
    relay,
    makeRelay,
    send,
    record,
    logs,
    /** Rows to the events list. @param {unknown} rows @param {object} [init] */
    sendEvents: (rows, init = {}) =>
      send(`${EVENTS_PATH}?${EVENTS_QUERY}`, { body: rows, ...init }),
    /** The scan of every answer and log line this harness saw, for the credentials in any form. */
    assertNoSecrets() {
      const lines = [...seen, ...logs.map((entry) => JSON.stringify(entry))]
      assert.ok(lines.length > 0)
      for (const line of lines) assertNoCredential(line)
    },
    close: () => sim.close(),
  }
}

/**
 * Every text the credentials can hide in: the key, the secret and `key:secret`, each as written,
 * %-encoded, in hex, and in base64 (standard and URL-safe) wherever a longer text puts it: of
 * base64, only the characters made from the credential's own bytes, at each of the three offsets.
 * @param {string[]} [secrets]
 */
export function credentialForms(secrets = [`${API_KEY}:${API_SECRET}`, API_KEY, API_SECRET]) {
  return secrets.flatMap((secret) => {
    const hex = Buffer.from(secret).toString('hex')
    const base64 = [0, 1, 2].map((offset) => {
      const text = Buffer.concat([Buffer.alloc(offset), Buffer.from(secret)]).toString('base64')
      // With `offset` bytes before it, the credential's first whole character is the one after
      // the bits of those bytes, and its last whole one ends before the padding bits.
      const first = Math.ceil((offset * 8) / 6)
      const end = Math.floor(((offset + Buffer.byteLength(secret)) * 8) / 6)
      return text.slice(first, end)
    })
    return [
      secret,
      encodeURIComponent(secret),
      hex,
      hex.toUpperCase(),
      ...base64,
      ...base64.map((b) => b.replaceAll('+', '-').replaceAll('/', '_')),
    ]
  })
}

/** Fails if `text` holds a credential in any of {@link credentialForms}. @param {string} text */
export function assertNoCredential(text, forms = credentialForms()) {
  for (const form of forms) assert.ok(!text.includes(form), `credential leaked as ${form}: ${text}`)
}

/** The relay's error body: SMC's shape, with a reason. @param {Sent} sent @param {number} status @param {string} code */
export function assertRefused(sent, status, code) {
  assert.equal(sent.status, status, sent.text)
  assert.equal(sent.body?.result_code, status >= 500 ? 'ServiceUnavailable' : 'Failed', sent.text)
  assert.equal(typeof sent.body?.message, 'string')
  assert.ok(sent.body.errors.length > 0)
  assert.equal(sent.body.errors[0].error_code, code, sent.text)
  assert.equal(typeof sent.body.errors[0].description, 'string')
}

/**
 * The `selligent-relay` CLI under test: this build's, or another's (`SELLIGENT_RELAY_CLI`, to show
 * a test failing on an older relay).
 */
export const RELAY_CLI =
  process.env.SELLIGENT_RELAY_CLI ??
  fileURLToPath(new URL('../../dist/relay-cli.js', import.meta.url))

/**
 * Runs the CLI with only the given environment (and PATH), collecting its output; `listening`
 * resolves with the URL it prints once it listens, or rejects if it exits first.
 * @param {Record<string, string>} env
 */
export function runCli(env) {
  const child = spawn(process.execPath, [RELAY_CLI], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = { stdout: '', stderr: '' }
  child.stdout.on('data', (chunk) => (output.stdout += chunk))
  child.stderr.on('data', (chunk) => (output.stderr += chunk))
  const listening = new Promise((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(output.stdout)
      if (match) resolve(match[1])
    })
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${output.stderr}`)))
  })
  listening.catch(() => undefined)
  return { child, output, listening }
}
