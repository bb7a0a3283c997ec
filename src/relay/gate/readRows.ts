import { RelayError, unavailable } from '../RelayError.js'

/** A body the gate accepted. */
export interface Rows {
  /** The rows, every cell a string. */
  readonly rows: readonly (readonly string[])[]
  /**
   * Size of the body in bytes, to bound merged calls; taken from the relay's {@link BodyMemory},
   * to which the caller gives them back once the request is answered.
   */
  readonly bytes: number
}

/** Bytes of request bodies the relay holds in memory at once, across all requests. */
export interface BodyMemory {
  /** Takes `bytes` for a body being read; `false` (and nothing taken) when that would pass the bound. */
  take(bytes: number): boolean
  /** Gives back bytes taken, once their request is answered or refused. */
  give(bytes: number): void
}

/** At most `max` bytes held at once. */
export function createBodyMemory(max: number): BodyMemory {
  let held = 0
  return {
    take(bytes) {
      if (held + bytes > max) return false
      held += bytes
      return true
    },
    give(bytes) {
      held -= bytes
    },
  }
}

/** The bounds a body is read within. */
export interface BodyLimits {
  /** Rows at most. */
  readonly maxRows: number
  /** Bytes at most; a body is read no further. */
  readonly maxBytes: number
  /** Milliseconds the whole body may take to arrive. */
  readonly bodyTimeoutMs: number
  /** The relay's bytes of bodies in memory. */
  readonly memory: BodyMemory
}

/** Bad rows listed in an answer at most; one is enough to fix a bug, a thousand flood a log. */
const MAX_LISTED_PROBLEMS = 10

/**
 * The gate's body half: `text/plain` (the plugin's CORS-simple requests) or `application/json`,
 * at most `maxBytes` (read no further than that) arriving within `bodyTimeoutMs`, while the
 * relay's body memory has room for it, and a JSON array of at most `maxRows` rows, each an array
 * of exactly `arity` strings. The bytes stay taken from the memory when rows are returned; on a
 * refusal they are given back here.
 */
export async function readRows(request: Request, arity: number, limits: BodyLimits): Promise<Rows> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'text/plain' && type !== 'application/json') {
    throw new RelayError(
      415,
      'ERR_CONTENT_TYPE',
      `Content-Type must be text/plain or application/json; got ${JSON.stringify(type)}`,
    )
  }
  const bytes = await readBytes(request, limits)
  try {
    return { rows: parseRows(bytes, arity, limits.maxRows), bytes: bytes.byteLength }
  } catch (error) {
    limits.memory.give(bytes.byteLength)
    throw error
  }
}

function parseRows(bytes: Uint8Array, arity: number, maxRows: number): string[][] {
  let body: unknown
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new RelayError(400, 'ERR_MALFORMED_BODY', 'The body must be JSON: an array of rows')
  }
  if (!Array.isArray(body) || body.length === 0) {
    throw new RelayError(
      400,
      'ERR_MALFORMED_BODY',
      'The body must be a non-empty JSON array of rows',
    )
  }
  if (body.length > maxRows) {
    throw new RelayError(
      413,
      'ERR_TOO_MANY_ROWS',
      `The body has ${body.length} rows; at most ${maxRows} are accepted`,
    )
  }
  const problems: string[] = []
  body.forEach((row: unknown, index) => {
    if (!Array.isArray(row)) problems.push(`Row ${index} is not an array`)
    else if (row.length !== arity)
      problems.push(`Row ${index} has ${row.length} cells; ${arity} expected`)
    else {
      const cell = row.findIndex((value) => typeof value !== 'string')
      if (cell >= 0)
        problems.push(
          `Row ${index} cell ${cell} is ${kind(row[cell])}; every cell must be a string`,
        )
    }
  })
  if (problems.length) {
    const shown = problems.slice(0, MAX_LISTED_PROBLEMS)
    throw new RelayError(
      400,
      'ERR_INVALID_ROWS',
      `${problems.length} row(s) are not arrays of ${arity} strings`,
      {
        details: shown,
      },
    )
  }
  return body as string[][]
}

const kind = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`

/** Thrown when the client went away before its body arrived: nobody is left to answer. */
export const CLIENT_ABORTED = 'ERR_CLIENT_ABORTED'

async function readBytes(request: Request, limits: BodyLimits): Promise<Uint8Array> {
  const { maxBytes, bodyTimeoutMs, memory } = limits
  const tooLarge = () =>
    new RelayError(413, 'ERR_BODY_TOO_LARGE', `The body is larger than ${maxBytes} bytes`)
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > maxBytes) throw tooLarge()
  if (!request.body) return new Uint8Array()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RelayError(
            408,
            'ERR_BODY_TIMEOUT',
            `The body did not arrive within ${bodyTimeoutMs} ms`,
          ),
        ),
      bodyTimeoutMs,
    )
  })
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), late]).catch((error: unknown) => {
        throw error instanceof RelayError
          ? error
          : new RelayError(400, CLIENT_ABORTED, 'The client went away before its body arrived')
      })
      if (done) break
      size += value.byteLength
      if (size > maxBytes) throw tooLarge()
      // Counted as read, so a client that declares a large body and stalls holds only what it sent.
      if (!memory.take(value.byteLength)) {
        throw unavailable(
          'ERR_RELAY_BUSY',
          'The relay holds as many request bodies as it may; retry later',
        )
      }
      chunks.push(value)
    }
  } catch (error) {
    memory.give(chunks.reduce((n, chunk) => n + chunk.byteLength, 0))
    // Unread data stays where it is; the adapter closes the connection rather than drain it.
    reader.cancel().catch(() => undefined)
    throw error
  } finally {
    clearTimeout(timer)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}
