import { RelayError } from './RelayError.js'

/** A body the gate accepted. */
export interface Rows {
  /** The rows, every cell a string. */
  readonly rows: readonly (readonly string[])[]
  /** Size of the body in bytes, to bound merged calls. */
  readonly bytes: number
}

/** Bad rows listed in an answer at most; one is enough to fix a bug, a thousand flood a log. */
const MAX_LISTED_PROBLEMS = 10

/**
 * The gate's body half: `text/plain` (the plugin's CORS-simple requests) or `application/json`,
 * at most `maxBytes` (read no further than that), a JSON array of at most `maxRows` rows, each
 * an array of exactly `arity` strings.
 */
export async function readRows(
  request: Request,
  arity: number,
  maxRows: number,
  maxBytes: number,
): Promise<Rows> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'text/plain' && type !== 'application/json') {
    throw new RelayError(
      415,
      'ERR_CONTENT_TYPE',
      `Content-Type must be text/plain or application/json; got ${JSON.stringify(type)}`,
    )
  }
  const bytes = await readBytes(request, maxBytes)
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
  return { rows: body as string[][], bytes: bytes.byteLength }
}

const kind = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`

async function readBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new RelayError(413, 'ERR_BODY_TOO_LARGE', `The body is larger than ${maxBytes} bytes`)
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > maxBytes) throw tooLarge()
  if (!request.body) return new Uint8Array()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      throw tooLarge()
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}
