// Rendering shared by the demo page and the page shown after leaving it. Every value is set as
// text, never as HTML: payloads are user input.

/** Creates an element: h('td', { class: 'x' }, 'text', child). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value)
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) element.append(child)
  }
  return element
}

const time = (ms) => new Date(ms).toLocaleTimeString(undefined, { hour12: false })
const statusClass = (status) => (status >= 200 && status < 300 ? 'ok' : 'bad')

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 1)
  } catch {
    return text
  }
}

function rowsIn(body) {
  try {
    const rows = JSON.parse(body)
    return Array.isArray(rows) ? rows.length : 0
  } catch {
    return 0
  }
}

/** A readable name for a fetch mode the browser reported (Sec-Fetch-Mode). */
const sentBy = (entry) =>
  entry.fetchMode === 'no-cors' ? 'sendBeacon / keepalive (no-cors)' : `fetch (${entry.fetchMode})`

/** Browser → relay requests (with the relay's answers), then relay → SMC calls. */
export function renderWire(container, traffic, smcLog) {
  const requests = traffic.filter((e) => e.kind === 'relay').reverse()
  const notes = traffic.filter((e) => e.kind === 'relay-log' && e.entry.level !== 'info').reverse()
  container.replaceChildren(
    h('h3', {}, `Browser → relay /smc (${requests.length})`),
    requests.length
      ? h(
          'ol',
          { class: 'wire', reversed: '' },
          requests.map((e) =>
            h(
              'li',
              { 'data-status': String(e.status) },
              h('span', { class: `status ${statusClass(e.status)}` }, String(e.status)),
              ` ${time(e.at)} ${e.method} /smc${e.path} · ${rowsIn(e.body)} row(s) · ${sentBy(e)}`,
              h(
                'details',
                {},
                h('summary', {}, 'request and response'),
                h(
                  'div',
                  { class: 'small' },
                  `?${e.query}`,
                  h('br'),
                  `Content-Type: ${e.contentType}`,
                ),
                h('pre', {}, pretty(e.body)),
                h('pre', {}, pretty(e.response)),
              ),
            ),
          ),
        )
      : h('p', { class: 'none' }, 'nothing yet'),
    notes.length ? h('h3', {}, 'Relay warnings') : '',
    notes.length
      ? h(
          'ul',
          { class: 'errors' },
          notes
            .slice(0, 8)
            .map((e) => h('li', {}, `${time(e.at)} ${e.entry.event}: ${e.entry.message}`)),
        )
      : '',
    smcLog ? h('h3', {}, `Relay → SMC (${smcLog.length})`) : '',
    smcLog
      ? smcLog.length
        ? h(
            'ol',
            { class: 'wire', reversed: '' },
            [...smcLog]
              .reverse()
              .map((call) =>
                h(
                  'li',
                  {},
                  h(
                    'span',
                    { class: `status ${statusClass(call.status)}` },
                    String(call.status || 'drop'),
                  ),
                  ` ${time(Date.parse(call.at))} ${call.method} ${call.path} · ${call.rows} row(s) · ${call.resultCode ?? ''} · X-ApiKey ${call.auth}`,
                ),
              ),
          )
        : h('p', { class: 'none' }, 'nothing yet')
      : '',
  )
}

const EVENT_COLUMNS = ['EVENT_TYPE', 'EVENT_NAME', 'USER_ID', 'PREVIOUS_ID', 'PROPERTIES']

function clip(text, max = 60) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** The simulator's lists: rows per list, members per static segment. */
export function renderSmc(container, state) {
  if (!state) {
    container.replaceChildren(
      h('p', { class: 'none' }, 'A real SMC tenant is configured: look in SMC itself.'),
    )
    return
  }
  const sections = []
  for (const [name, list] of Object.entries(state.lists)) {
    const all = Array.isArray(list.columns) ? list.columns : Object.keys(list.columns)
    const columns = name === 'segment_events' ? EVENT_COLUMNS : all
    sections.push(
      h('h3', {}, `List ${name} — ${list.records.length} row(s)`),
      list.records.length
        ? h(
            'table',
            { 'data-list': name },
            h(
              'tr',
              {},
              columns.map((c) => h('th', {}, c)),
              h('th', {}, 'writes'),
            ),
            list.records.map((record) =>
              h(
                'tr',
                {},
                columns.map((c) =>
                  h('td', { title: record.fields[c] ?? '' }, clip(record.fields[c] ?? '')),
                ),
                h('td', {}, String(record.writes)),
              ),
            ),
          )
        : h('p', { class: 'none' }, 'no rows'),
    )
    for (const [segment, members] of Object.entries(list.segments ?? {})) {
      sections.push(
        h(
          'p',
          { 'data-segment': segment },
          h('b', {}, `Segment ${segment}`),
          `: ${members.length ? members.map((m) => Object.values(m.fields).filter(Boolean).join(' ')).join(', ') : 'no members'}`,
        ),
      )
    }
  }
  container.replaceChildren(...sections)
}

/** Polls the demo server every `ms` and hands each fresh view to `render`. */
export function poll(ms, since, render) {
  let last = since
  let traffic = []
  const tick = async () => {
    try {
      const [wire, state] = await Promise.all([
        fetch(`/__demo/traffic?since=${last}`).then((r) => r.json()),
        fetch('/__smc/state').then((r) => (r.ok ? r.json() : undefined)),
      ])
      traffic = [...traffic, ...wire.entries].slice(-300)
      last = wire.seq
      render(traffic, state)
    } catch {
      // The demo server is restarting or gone: the next tick tries again.
    }
    setTimeout(tick, ms)
  }
  void tick()
}
