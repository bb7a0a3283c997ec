// A free loopback TCP port, for every tool of the project that starts a server or a browser
// driver of its own (tests, benchmarks, the WebKit launcher).
import { createServer } from 'node:net'

/** A loopback TCP port nobody listens on now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}
