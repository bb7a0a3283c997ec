import type { RelayError } from '../RelayError.js'
import type { Answer } from './createCoalescer.js'

/** A caller's answer the relay makes itself, from its error. */
export const errorAnswer = (error: RelayError): Answer => ({
  code: error.code,
  status: error.status,
  body: JSON.stringify(error),
  headers: error.headers,
})
