// A stand-in relay for the browser tests: records every request under /rec/{ns}/… and answers
// from a per-namespace script of responses, so tests assert on what really went over the wire.
// Control endpoints (all JSON):
//   GET  /__rec/{ns}/log               → recorded requests [{method, path, query, headers, body, text, contentType, at}]
//   POST /__rec/{ns}/script            ← [{status, headers?, body?, delayMs?, times?, destroy?}] answers to use
//                                        in order; the last entry repeats. Default: 200 Succeeded with counts.
//                                        An answer with `bodyContains: "X"` is a standing rule instead: every
//                                        request whose body contains X gets it, and is not given the next
//                                        answer in order (a poison row: "400 for any request containing X").
//                                        Or {"<path part>": [...], "": [...]}: one script per target, picked by
//                                        the first key the request path contains ("" matches every path).
//                                        Each log entry also records the `status` it was answered with
//                                        (0 when the connection was destroyed).
//   POST /__rec/{ns}/reset             → forget log and script
// Direct-mode requests ({smcAdminUrl}/Portal/Api/…) are recorded under the namespace "direct".
const state = new Map()

function ns(name) {
  let s = state.get(name)
  if (!s) {
    s = { log: [], script: [] }
    state.set(name, s)
  }
  return s
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function succeeded(rows) {
  return {
    result_code: 'Succeeded',
    errors: null,
    number_of_inserted_records: rows,
    number_of_updated_records: 0,
    number_of_failed_records: 0,
    number_of_duplicate_records: 0,
    number_of_records_not_found: 0,
    number_of_deleted_records: 0,
    invalid_records: [],
  }
}

function nextAnswer(s, path, text) {
  // A script per target: the first key the path contains picks it.
  const script = Array.isArray(s.script)
    ? s.script
    : (Object.entries(s.script).find(([part]) => path.includes(part))?.[1] ?? [])
  const rule = script.find((answer) => answer.bodyContains && text.includes(answer.bodyContains))
  if (rule) return rule
  const inOrder = script.filter((answer) => !answer.bodyContains)
  const head = inOrder[0]
  if (!head) return undefined
  if (inOrder.length > 1) {
    if (head.times && head.times > 1) head.times--
    else script.splice(script.indexOf(head), 1)
  }
  return head
}

export async function recorder(ctx, next) {
  const control = /^\/__rec\/([^/]+)\/(log|script|reset)$/.exec(ctx.path)
  if (control) {
    const s = ns(control[1])
    if (control[2] === 'log') ctx.body = s.log
    else {
      if (control[2] === 'reset') state.delete(control[1])
      else s.script = JSON.parse(await readBody(ctx.req))
      ctx.body = {}
    }
    return
  }
  const rec = /^\/rec\/([^/]+)(\/.*)$/.exec(ctx.path) ?? /^\/Portal\/Api()(\/.*)$/.exec(ctx.path)
  if (!rec) return next()
  const s = ns(rec[1] || 'direct')
  const headers = { ...ctx.request.headers }
  if (ctx.method === 'OPTIONS') {
    ctx.status = 204
    ctx.set('Access-Control-Allow-Origin', '*')
    ctx.set('Access-Control-Allow-Methods', 'POST, DELETE')
    ctx.set('Access-Control-Allow-Headers', '*')
    return
  }
  const text = await readBody(ctx.req)
  let body
  try {
    body = JSON.parse(text)
  } catch {
    body = text
  }
  const entry = {
    method: ctx.method,
    path: rec[2],
    query: Object.fromEntries(new URLSearchParams(ctx.querystring)),
    rawQuery: ctx.querystring,
    headers,
    contentType: headers['content-type'] ?? '',
    body,
    text,
    at: Date.now(),
  }
  s.log.push(entry)
  const answer = nextAnswer(s, rec[2], text)
  if (answer?.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs))
  if (answer?.destroy) {
    entry.status = 0
    ctx.req.socket.destroy()
    return
  }
  ctx.status = entry.status = answer?.status ?? 200
  for (const [k, v] of Object.entries(answer?.headers ?? {})) ctx.set(k, v)
  ctx.body = answer?.body ?? succeeded(Array.isArray(body) ? body.length : 0)
}
