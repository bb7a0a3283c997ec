import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Relay } from '../createRelay.js'
import { jsonResponse, RelayError } from '../RelayError.js'

/**
 * A request as a framework may hand it on: Express and Connect strip their mount path from `url`
 * and keep the target as received in `originalUrl`.
 */
type MountedRequest = IncomingMessage & { readonly originalUrl?: string }

/**
 * Serves a relay from `node:http`, or from a framework on it (Express's `app.use`, a Fastify route
 * that hands over `request.raw` and `reply.raw`). Imports nothing from Node at run time, so the
 * relay module still loads on edge runtimes.
 */
export function toNodeListener(relay: Relay): (req: MountedRequest, res: ServerResponse) => void {
  return (req, res) => {
    void handle(relay, req, res).catch(() => {
      // The client went away, or its request could not be read: nothing is left to answer.
      res.destroy()
    })
  }
}

/** Only a path on this host, or `*` for a server-wide OPTIONS, is a target the relay serves. */
const isOriginForm = (target: string, method: string): boolean =>
  (target.startsWith('/') && !target.startsWith('//')) || (method === 'OPTIONS' && target === '*')

const BAD_TARGET = new RelayError(
  400,
  'ERR_REQUEST_TARGET',
  'The request target must be a path on this host, like /organizations/…, with a valid Host header',
)

async function handle(relay: Relay, req: MountedRequest, res: ServerResponse): Promise<void> {
  // The path browsers request, mount path included: the relay's basePath is that path.
  const rawTarget = req.originalUrl ?? req.url ?? '/'
  const method = req.method ?? 'GET'
  const headers = new Headers()
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '')
  }
  let url: URL | undefined
  try {
    // Resolved against the Host header only in origin form: a target `//other.example/…` or
    // `http://other.example/…` would otherwise name the host the relay takes as its own.
    if (isOriginForm(rawTarget, method))
      url = new URL(rawTarget, `http://${req.headers.host ?? 'localhost'}`)
  } catch {
    // answered below, like a target that is not in origin form
  }
  const hasBody = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS'
  const response = url
    ? await relay(
        new Request(url, {
          method,
          headers,
          ...(hasBody ? { body: streamOf(req), duplex: 'half' } : {}),
        } as RequestInit),
        { address: req.socket.remoteAddress ?? 'unknown', rawTarget },
      )
    : jsonResponse(400, BAD_TARGET)
  const body = Buffer.from(await response.arrayBuffer())
  // Answered meanwhile by the server itself (a relay stopping answers what is left with 503).
  if (res.headersSent) return
  const answerHeaders = Object.fromEntries(response.headers)
  if (hasBody && !req.complete) {
    // The relay stopped reading an oversized body: answer, then close rather than drain the rest.
    answerHeaders.connection = 'close'
    res.once('finish', () => req.destroy())
  }
  res.writeHead(response.status, answerHeaders).end(body)
}

/** The request body as a web stream, pulled only as fast as the relay reads it; unread data stays in the socket. */
function streamOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  const chunks = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.next()
      if (done) controller.close()
      else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))
    },
  })
}
