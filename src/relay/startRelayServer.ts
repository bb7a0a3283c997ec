import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { RETRY_AFTER_UNAVAILABLE_S } from './callSmc.js'
import { relayOf } from './createRelay.js'
import { JSON_HEADERS, RelayError } from './RelayError.js'
import { optionLabel, type RelayOptions } from './RelayOptions.js'
import { resolveServerOptions, type ResolvedServerOptions } from './resolveRelayOptions.js'
import { toNodeListener } from './toNodeListener.js'

/** Options of {@link startRelayServer}: the relay's, where to listen, and the server's bounds. */
export interface RelayServerOptions extends RelayOptions {
  /** `PORT`: TCP port; 0 picks a free one. Default 8787. */
  readonly port?: number
  /** `HOST`: address to listen on. Default `127.0.0.1`, so a relay is never exposed by accident. */
  readonly host?: string
  /**
   * `RELAY_MAX_CONNECTIONS`: open connections at most. At the bound, a new connection closes the
   * oldest one that has no request in progress, else the oldest still sending its body, else it
   * is itself refused; stalled clients cannot hold every descriptor, nor keep `/status` from
   * answering. Default 512.
   */
  readonly maxConnections?: number
  /** `RELAY_HEADER_TIMEOUT_MS`: how long a connection may take to send a request's headers; then 408 and closed. Default 10,000. */
  readonly headerTimeoutMs?: number
  /**
   * `RELAY_DRAIN_TIMEOUT_MS`: after {@link RelayServer.close} (the CLI: SIGTERM or SIGINT), how
   * long requests in progress have to be answered; those left are then answered 503 with
   * `Retry-After`, and every connection is closed. Default 20,000.
   */
  readonly drainTimeoutMs?: number
  /**
   * `REDIS_URL`: the Redis all instances share their budget, SMC's pause and the per-client
   * counts through (`rediss://`, or `redis://` on loopback or with `redisAllowPlaintext`; with a
   * password if it needs one; a secret, never logged). Needs the optional peer dependency
   * `@redis/client`; see also `instances`. Default none: each instance keeps its own.
   */
  readonly redisUrl?: string
  /**
   * `RELAY_REDIS_ALLOW_PLAINTEXT` (`true` or `false`): allow `redis://` to a host other than
   * loopback, whose password and shared limits then cross the network in clear text; for a
   * network the operator trusts, such as a private link to a Redis without TLS. Default `false`.
   * Without it, such a URL is refused at start: use `rediss://` (TLS).
   */
  readonly redisAllowPlaintext?: boolean
  /**
   * `RELAY_METRICS` (`true` or `false`): serve Prometheus metrics at `GET /metrics` of a listener
   * of their own (`metricsHost`, `metricsPort`), never on the relay's port. Needs the optional
   * peer dependency `prom-client`. Default `false`.
   */
  readonly serveMetrics?: boolean
  /**
   * `RELAY_METRICS_TOKEN`: when set, `/metrics` answers only requests with
   * `Authorization: Bearer <token>` (a secret, never logged). Default none: anyone who can reach it.
   */
  readonly metricsToken?: string
  /** `RELAY_METRICS_PORT`: TCP port of the metrics listener; 0 picks a free one. Default 9464. */
  readonly metricsPort?: number
  /**
   * `RELAY_METRICS_HOST`: address of the metrics listener. Default `127.0.0.1`, so that only this
   * machine can scrape; without `metricsToken`, a warning at start says who else can.
   */
  readonly metricsHost?: string
}

/** A listening relay. */
export interface RelayServer {
  /** The server, to tune timeouts or attach more listeners. */
  readonly server: Server
  /** Where it listens, e.g. `http://127.0.0.1:8787`. */
  readonly url: string
  /** Where Prometheus scrapes, e.g. `http://127.0.0.1:9464/metrics`; `undefined` without `serveMetrics`. */
  readonly metricsUrl: string | undefined
  /**
   * Stops accepting connections and closes those without a request in progress; requests in
   * progress are answered (503 with `Retry-After` if they are not by shortly before
   * `drainTimeoutMs`), then every connection is closed, the metrics listener's too. Resolves
   * within `drainTimeoutMs`.
   */
  close(): Promise<void>
}

/** Starts a relay on `node:http`. Rejects with {@link RelayConfigError} on bad options. */
export async function startRelayServer(options: RelayServerOptions): Promise<RelayServer> {
  return serveRelay(resolveServerOptions(options))
}

/**
 * Starts a relay on `node:http` from options resolved once (the CLI resolves them itself), with
 * Redis and Prometheus when they are configured.
 */
export async function serveRelay(options: ResolvedServerOptions): Promise<RelayServer> {
  // Loaded on demand: edge runtimes import this module for createRelay and have no node:http,
  // and sites that use neither Redis nor metrics need not install their clients.
  const { createServer } = await import('node:http')
  const prometheus = options.serveMetrics
    ? await (
        await import('./createPrometheusMetrics.js')
      ).createPrometheusMetrics(options.metricsToken)
    : undefined
  const redis = options.redisUrl
    ? await (await import('./connectRedis.js')).connectRedis(options.redisUrl)
    : undefined
  const relay = toNodeListener(
    relayOf({
      ...options.relay,
      store: redis?.store ?? options.relay.store,
      metrics: prometheus?.metrics ?? options.relay.metrics,
    }),
  )
  const server = createServer(
    {
      headersTimeout: options.headerTimeoutMs,
      // A backstop only: the relay answers a body later than bodyTimeoutMs itself, with 408.
      requestTimeout: options.headerTimeoutMs + options.relay.bodyTimeoutMs + 1000,
      // How often Node checks those timeouts; a quarter of the header timeout keeps it close.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, options.headerTimeoutMs / 4)),
    },
    relay,
  )
  const connections = trackConnections(server, options.maxConnections)
  // Scrapes are the operator's, not the site's traffic: on a listener of their own, loopback by
  // default, so that the public port shows nothing of the relay's state.
  const metricsServer =
    prometheus &&
    createServer(
      { headersTimeout: options.headerTimeoutMs, requestTimeout: options.headerTimeoutMs },
      prometheus.serve,
    )
  let url: string
  let metricsUrl: string | undefined
  try {
    url = await listen(server, options.port, options.host)
    if (metricsServer) {
      metricsUrl = `${await listen(metricsServer, options.metricsPort, options.metricsHost)}/metrics`
    }
  } catch (error) {
    if (server.listening) server.close()
    await redis?.close()
    throw error
  }
  if (metricsUrl && !options.metricsToken) {
    options.relay.log({
      level: 'warn',
      event: 'metrics_unprotected',
      message: `Metrics are served at ${metricsUrl} without a token: whoever can reach that address reads them; set ${optionLabel('metricsToken')}`,
      url: metricsUrl,
    })
  }
  let closing: Promise<void> | undefined
  return {
    server,
    url,
    metricsUrl,
    close: () =>
      (closing ??= drain(server, connections, options.drainTimeoutMs)
        .then(() => metricsServer && closeAtOnce(metricsServer))
        .then(() => redis?.close())),
  }
}

/** Listens on `port` and `host`; resolves where, e.g. `http://127.0.0.1:8787`. */
async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${shownHost}:${address.port}`
}

/** Closes a server with nothing to drain, its idle keep-alive connections included. */
async function closeAtOnce(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeAllConnections()
  await closed
}

/** One open connection: what it is doing, and since when. */
interface Connection {
  /** `idle`: no request yet, or between requests; `request`: one is being read or answered. */
  phase: 'idle' | 'request'
  since: number
  request?: IncomingMessage
  response?: ServerResponse
}

interface Connections {
  readonly open: Map<Socket, Connection>
  draining: boolean
}

/**
 * Keeps at most `max` connections. Past it, a new connection closes the one that has gone the
 * longest without a request fully received: idle between requests, still sending its headers,
 * or still sending its body. Connections whose requests are fully read and being answered are
 * never closed. A flood of stalled connections thus keeps turning over, oldest first, and a
 * health check, the newest, gets through.
 */
function trackConnections(server: Server, max: number): Connections {
  const connections: Connections = { open: new Map(), draining: false }
  const { open } = connections
  const oldest = (evictable: (c: Connection) => boolean): Socket | undefined => {
    let found: [Socket, Connection] | undefined
    for (const entry of open) {
      if (evictable(entry[1]) && (!found || entry[1].since < found[1].since)) found = entry
    }
    return found?.[0]
  }
  server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      const victim = oldest((c) => c.phase === 'idle' || c.request?.complete === false)
      if (!victim) {
        socket.destroy()
        return
      }
      victim.destroy()
      open.delete(victim)
    }
    open.set(socket, { phase: 'idle', since: Date.now() })
    socket.once('close', () => open.delete(socket))
  })
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const connection = open.get(request.socket)
    if (connections.draining) response.setHeader('Connection', 'close')
    if (!connection) return
    Object.assign(connection, { phase: 'request', since: Date.now(), request, response })
    response.once('close', () => {
      Object.assign(connection, {
        phase: 'idle',
        since: Date.now(),
        request: undefined,
        response: undefined,
      })
    })
  })
  return connections
}

/** Stops the server within `timeoutMs`, answering what it can (see {@link RelayServer.close}). */
async function drain(server: Server, connections: Connections, timeoutMs: number): Promise<void> {
  connections.draining = true
  // Node also closes, at once, every connection with no request in progress.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  for (const { response } of connections.open.values()) {
    if (response && !response.headersSent) response.setHeader('Connection', 'close')
  }
  // Time kept at the end to write the 503s before the connections close.
  const grace = Math.min(500, Math.floor(timeoutMs / 4))
  const timers: ReturnType<typeof setTimeout>[] = []
  const wait = (ms: number) =>
    Promise.race([closed, new Promise<void>((resolve) => timers.push(setTimeout(resolve, ms)))])
  await wait(timeoutMs - grace)
  const stopping = new RelayError(503, 'ERR_RELAY_STOPPING', 'The relay is stopping; retry later', {
    headers: { 'Retry-After': String(RETRY_AFTER_UNAVAILABLE_S) },
  })
  for (const { response } of connections.open.values()) {
    if (response && !response.headersSent) {
      response
        .writeHead(503, { ...JSON_HEADERS, ...stopping.headers, Connection: 'close' })
        .end(JSON.stringify(stopping))
    }
  }
  await wait(grace)
  server.closeAllConnections()
  for (const socket of connections.open.keys()) socket.destroy()
  await closed
  timers.forEach(clearTimeout)
}
