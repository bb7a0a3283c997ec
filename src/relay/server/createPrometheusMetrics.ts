import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type * as Prometheus from 'prom-client'
import type { RelayMetrics } from '../RelayMetrics.js'
import { optionLabel } from '../config/envNames.js'

/** The relay's metrics in a Prometheus registry, and the listener that shows them. */
export interface PrometheusMetrics {
  /** What the relay reports to. */
  readonly metrics: RelayMetrics
  /** Answers `GET /metrics` (with the token, when one is set); any other request 404. */
  serve(request: IncomingMessage, response: ServerResponse): void
}

const SMC_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15]
const ROWS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]

/**
 * Counts what the relay does with `prom-client` (an optional peer dependency, loaded only here;
 * Node only, loaded on demand by startRelayServer), with Node's process metrics. With `token`,
 * `/metrics` answers only requests with `Authorization: Bearer <token>`.
 */
export async function createPrometheusMetrics(token?: string): Promise<PrometheusMetrics> {
  let prom: typeof Prometheus
  try {
    prom = await import('prom-client')
  } catch {
    throw new Error(
      `${optionLabel('serveMetrics')} is on, but prom-client is not installed: npm install prom-client`,
    )
  }
  const registry = new prom.Registry()
  const registers = [registry]
  prom.collectDefaultMetrics({ register: registry })
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new prom.Counter({ name: `selligent_relay_${name}`, help, labelNames, registers })
  const accepted = counter('rows_accepted_total', 'Rows of requests that passed the gate')
  const forwarded = counter('rows_forwarded_total', 'Rows carried by SMC calls')
  const refusedRequests = counter(
    'requests_refused_total',
    "Requests answered with the relay's own error, by its code",
    ['reason'],
  )
  const refusedRows = counter(
    'rows_refused_total',
    "Rows of requests answered with the relay's own error, by its code",
    ['reason'],
  )
  const calls = counter(
    'smc_calls_total',
    "SMC calls, by SMC's status or, without a usable answer, the relay's error code",
    ['outcome'],
  )
  const seconds = new prom.Histogram({
    name: 'selligent_relay_smc_call_duration_seconds',
    help: 'How long SMC calls took',
    buckets: SMC_SECONDS,
    registers,
  })
  const rowsPerCall = new prom.Histogram({
    name: 'selligent_relay_smc_call_rows',
    help: 'Rows per SMC call',
    buckets: ROWS,
    registers,
  })
  const budget = new prom.Gauge({
    name: 'selligent_relay_budget_calls_available',
    help: 'SMC calls the budget allows at once, as last seen',
    registers,
  })
  const storeUp = new prom.Gauge({
    name: 'selligent_relay_store_up',
    help: 'Whether the shared store (Redis) answers: 1, or 0 while instances keep to their share',
    registers,
  })
  storeUp.set(1)

  const expected = token && digest(`Bearer ${token}`)
  return {
    metrics: {
      accepted: (rows) => accepted.inc(rows),
      refused(reason, rows) {
        refusedRequests.inc({ reason })
        refusedRows.inc({ reason }, rows)
      },
      smcCall(outcome, rows, ms) {
        calls.inc({ outcome })
        forwarded.inc(rows)
        seconds.observe(ms / 1000)
        rowsPerCall.observe(rows)
      },
      budget: (available) => budget.set(available),
      store: (up) => storeUp.set(up ? 1 : 0),
    },
    serve(request, response) {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found\n')
        return
      }
      const given = request.headers.authorization
      if (expected && !(given && timingSafeEqual(digest(given), expected))) {
        response.writeHead(401, { 'WWW-Authenticate': 'Bearer', 'Content-Type': 'text/plain' })
        response.end('A bearer token is required\n')
        return
      }
      void registry.metrics().then(
        (text) => response.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      )
    },
  }
}

/** Equal-length digests, so that comparing them takes the same time whatever was sent. */
const digest = (text: string): Buffer => createHash('sha256').update(text).digest()
