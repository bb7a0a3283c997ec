import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRelay } from './createRelay.js'
import type { RelayOptions } from './RelayOptions.js'
import { RELAY_DEFAULTS } from './relayDefaults.js'
import { toNodeListener } from './toNodeListener.js'

/** Options of {@link startRelayServer}: the relay's, and where to listen. */
export interface RelayServerOptions extends RelayOptions {
  /** `PORT`: TCP port; 0 picks a free one. Default 8787. */
  readonly port?: number
  /** `HOST`: address to listen on. Default `127.0.0.1`, so a relay is never exposed by accident. */
  readonly host?: string
}

/** A listening relay. */
export interface RelayServer {
  /** The server, to tune timeouts or attach more listeners. */
  readonly server: Server
  /** Where it listens, e.g. `http://127.0.0.1:8787`. */
  readonly url: string
  /** Stops accepting requests and closes idle connections. */
  close(): Promise<void>
}

/** Starts a relay on `node:http`. Rejects with {@link RelayConfigError} on bad options. */
export async function startRelayServer(options: RelayServerOptions): Promise<RelayServer> {
  const { port = RELAY_DEFAULTS.port, host = RELAY_DEFAULTS.host, ...relayOptions } = options
  const relay = createRelay(relayOptions)
  // Loaded on demand: edge runtimes import this module for createRelay and have no node:http.
  const { createServer } = await import('node:http')
  const server = createServer(toNodeListener(relay))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeIdleConnections()
      }),
  }
}
