import { toAsciiJson, type QueuedRow } from './records.js'
import { parseJson } from '../smc/parseJson.js'
import type { Target } from '../smc/Target.js'

// What the transport writes to storage, and how it reads it back (docs/design.md#chunked-storage):
// every tab writes under a key of its own, `{storageKey}/{tab id}`, in chunks `{tab key}#{n}`,
// each holding rows of one lane: `["POST /path?query",[[tries,"id",["cell",…]],…]]`.

/** A row as a chunk holds it. */
export type StoredRow = Pick<QueuedRow, 'id_' | 'json_' | 'tries_'>

/** What one chunk holds. */
export interface StoredChunk {
  /** The target of its rows. */
  readonly target_: Target
  /** Its rows, oldest first. */
  readonly rows_: readonly StoredRow[]
}

/**
 * The first chunk number. Chunk numbers have 7 digits (up to 9 million chunks), so that as text
 * they sort in the order the chunks were started.
 */
export const FIRST_CHUNK = 1_000_000

/** The name of a target's lane: its method, path and query, as a chunk names it. */
export const laneName = (target: Target): string =>
  `${target.method} ${target.path}?${target.query}`

/** A new tab key under `storageKey`. Web Locks imply a secure context, which `randomUUID` needs. */
export const newTabKey = (storageKey: string): string => `${storageKey}/${crypto.randomUUID()}`

/** Whether `key` is a tab key under `storageKey`. */
export const isTabKey = (key: string, storageKey: string): boolean =>
  key.startsWith(`${storageKey}/`)

/** The storage key of chunk `chunk` of tab `tabKey`. */
export const chunkKey = (tabKey: string, chunk: number): string => `${tabKey}#${chunk}`

/** The tab key a chunk key belongs to; a key that names no chunk is returned as it is. */
export const tabKeyOf = (key: string): string => key.replace(/#\d+$/, '')

/** The text of a chunk of rows of the lane `name`. */
export const encodeChunk = (name: string, rows: readonly StoredRow[]): string => {
  const cells = rows.map((row) => `[${row.tries_},${toAsciiJson(row.id_)},${row.json_}]`)
  return `[${JSON.stringify(name)},[${cells.join(',')}]]`
}

const isText = (value: unknown): value is string => typeof value === 'string'
const LANE = /^(POST|DELETE) ([^?]*)\?(.*)$/

/** The target a lane name names; `undefined` for a name no lane has. */
const targetOf = (name: string): Target | undefined => {
  const [, method, path, query] = LANE.exec(name) ?? []
  // Every group of the pattern takes part in a match: with a method, a path and a query too.
  return method ? { method: method as Target['method'], path: path!, query: query! } : undefined
}

/** The row a stored cell holds; `undefined` when it is out of shape. */
const rowOf = (cell: unknown): StoredRow | undefined => {
  if (!Array.isArray(cell) || cell.length !== 3) return
  const [tries, id, row] = cell as unknown[]
  if (!Number.isInteger(tries) || (tries as number) < 0 || !isText(id)) return
  if (!Array.isArray(row) || !row.every(isText)) return
  return { tries_: tries as number, id_: id, json_: toAsciiJson(row) }
}

/**
 * What a chunk's text holds; `undefined` when anything in it is out of shape (storage this code
 * did not write, or a write cut short): such a chunk is not read at all.
 */
export function decodeChunk(text: string): StoredChunk | undefined {
  const parsed = parseJson(text)
  if (!Array.isArray(parsed) || parsed.length !== 2) return
  const [name, cells] = parsed as unknown[]
  const target = isText(name) ? targetOf(name) : undefined
  if (!target || !Array.isArray(cells)) return
  const rows = cells.map(rowOf)
  return rows.every((row): row is StoredRow => row !== undefined)
    ? { target_: target, rows_: rows }
    : undefined
}
