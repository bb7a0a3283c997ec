import { DeliveryError } from './DeliveryError.js'
import { parseResult } from './parseResult.js'
import type { Row, Target, Transport, TransportOptions, TransportStats } from './types.js'

interface Entry {
  readonly id: string
  readonly row: Row
}

interface Batch {
  readonly target: Target
  entries: Entry[]
}

const keyOf = (t: Target): string => `${t.method} ${t.path}?${t.query}`

/** Creates a transport that coalesces rows per target and sends them with `fetch`. */
export function createTransport(options: TransportOptions): Transport {
  const batches = new Map<string, Batch>()
  const stats: TransportStats = { queued: 0, sent: 0, requests: 0, retried: 0, dropped: {} }
  let timer: ReturnType<typeof setTimeout> | undefined

  const drop = (target: Target, entries: readonly Entry[], why: string, reason: Error): void => {
    stats.dropped[why] = (stats.dropped[why] ?? 0) + entries.length
    options.onReport({ type: 'dropped', target, ids: entries.map((e) => e.id), reason })
  }

  async function send(target: Target, entries: Entry[]): Promise<void> {
    const url = `${options.baseUrl}${target.path}?${target.query}`
    stats.requests++
    let response: Response
    let text: string
    try {
      response = await fetch(url, {
        method: target.method,
        headers: options.headers,
        body: JSON.stringify(entries.map((e) => e.row)),
        credentials: 'omit',
      })
      text = await response.text()
    } catch (error) {
      drop(target, entries, 'network', new DeliveryError(String(error), 0, target))
      return
    }
    if (options.debug) console.debug('[Selligent]', target.method, url, response.status, text)
    const result = parseResult(text)
    if (!response.ok || (result.resultCode !== 'Succeeded' && result.resultCode !== 'PartiallySucceeded')) {
      drop(target, entries, 'rejected', new DeliveryError(`SMC answered ${result.resultCode || 'an error'}`, response.status, target))
      return
    }
    const invalid = entries.filter((_, i) => result.invalid.has(i))
    const accepted = entries.filter((_, i) => !result.invalid.has(i))
    stats.sent += accepted.length
    options.onReport({ type: 'sent', target, ids: accepted.map((e) => e.id) })
    if (invalid.length) {
      drop(target, invalid, 'invalid', new DeliveryError(`SMC refused ${invalid.length} row(s): ${[...result.invalid.values()].join(', ')}`, response.status, target))
    }
  }

  function flush(): Promise<void> {
    clearTimeout(timer)
    timer = undefined
    const sending: Promise<void>[] = []
    for (const batch of batches.values()) {
      for (let i = 0; i < batch.entries.length; i += options.batchSize) {
        sending.push(send(batch.target, batch.entries.slice(i, i + options.batchSize)))
      }
    }
    batches.clear()
    stats.queued = 0
    return Promise.all(sending).then(() => undefined)
  }

  return {
    stats,
    flush,
    push(target, row, id) {
      const key = keyOf(target)
      let batch = batches.get(key)
      if (!batch) batches.set(key, (batch = { target, entries: [] }))
      batch.entries.push({ id, row })
      stats.queued++
      if (batch.entries.length >= options.batchSize) void flush()
      else timer ??= setTimeout(() => void flush(), options.flushInterval)
    },
  }
}
