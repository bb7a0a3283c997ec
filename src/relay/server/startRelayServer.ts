import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { createRelay } from '../createRelay.js'
import { JSON_HEADERS, unavailable } from '../RelayError.js'
import { optionLabel } from '../config/envNames.js'
import type { RelayServerOptions } from '../config/RelayServerOptions.js'
import { RESOLVED } from '../config/ResolvedRelayOptions.js'
import { resolveServerOptions } from '../config/resolveServerOptions.js'
import type { ResolvedServerOptions } from '../config/ResolvedServerOptions.js'
import { toNodeListener } from './toNodeListener.js'

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

/**
 * Starts a relay on `node:http`, with Redis and Prometheus when they are configured. Rejects with
 * {@link RelayConfigError} on bad options; options the relay resolved itself (the CLI's) are taken
 * as they are.
 */
export async function startRelayServer(
  options: RelayServerOptions | ResolvedServerOptions,
): Promise<RelayServer> {
  const config = RESOLVED in options ? options : resolveServerOptions(options)
  // Loaded on demand: edge runtimes import this module for createRelay and have no node:http,
  // and sites that use neither Redis nor metrics need not install their clients.
  const { createServer } = await import('node:http')
  const prometheus = config.serveMetrics
    ? await (
        await import('./createPrometheusMetrics.js')
      ).createPrometheusMetrics(config.metricsToken)
    : undefined
  const redis = config.redisUrl
    ? await (await import('./connectRedis.js')).connectRedis(config.redisUrl)
    : undefined
  const relay = toNodeListener(
    createRelay({
      ...config.relay,
      store: redis?.store ?? config.relay.store,
      metrics: prometheus?.metrics ?? config.relay.metrics,
    }),
  )
  const server = createServer(
    {
      headersTimeout: config.headerTimeoutMs,
      // A backstop only: the relay answers a body later than bodyTimeoutMs itself, with 408.
      requestTimeout: config.headerTimeoutMs + config.relay.bodyTimeoutMs + 1000,
      // How often Node checks those timeouts; a quarter of the header timeout keeps it close.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, config.headerTimeoutMs / 4)),
    },
    relay,
  )
  const connections = trackConnections(server, config.maxConnections)
  // Scrapes are the operator's, not the site's traffic: on a listener of their own, loopback by
  // default, so that the public port shows nothing of the relay's state.
  const metricsServer =
    prometheus &&
    createServer(
      { headersTimeout: config.headerTimeoutMs, requestTimeout: config.headerTimeoutMs },
      prometheus.serve,
    )
  let url: string
  let metricsUrl: string | undefined
  try {
    url = await listen(server, config.port, config.host)
    if (metricsServer) {
      metricsUrl = `${await listen(metricsServer, config.metricsPort, config.metricsHost)}/metrics`
    }
  } catch (error) {
    if (server.listening) server.close()
    await redis?.close()
    throw error
  }
  if (metricsUrl && !config.metricsToken) {
    config.relay.log({
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
      (closing ??= drain(server, connections, config.drainTimeoutMs)
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
  const stopping = unavailable('ERR_RELAY_STOPPING', 'The relay is stopping; retry later')
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
