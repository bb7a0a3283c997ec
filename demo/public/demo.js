// The QA page: settings form, calls, fault toggles and three live panes, on analytics-next's
// own browser build (window.AnalyticsNext) and the built plugin (/dist/index.js).
import { selligentPlugin, validateSettings, PLUGIN_NAME } from '/dist/index.js'
import { h, poll, renderSmc, renderWire } from './panes.js'

const $ = (id) => document.getElementById(id)
const info = await fetch('/__demo/info').then((r) => r.json())

// ---- settings -------------------------------------------------------------------------------
// Every setting of the plugin, prefilled for the relay at /smc and the simulator's tenant.
const FIELDS = [
  ['organization', 'text', info.organization, 'SMC organization'],
  ['allowedEvents', 'list', 'Order Completed, Signed Up', 'track names sent (comma-separated)'],
  ['eventsDataListApiName', 'text', info.eventsList, 'data list receiving event rows'],
  ['consentCategories', 'list', 'Marketing', 'categories the visitor must grant (empty: no check)'],
  ['sendAliasEvents', 'flag', true],
  ['sendGroupEvents', 'flag', true],
  ['sendPageEvents', 'flag', true],
  ['sendScreenEvents', 'flag', true],
  ['proxyUrl', 'text', '/smc', 'the relay (recommended)'],
  ['smcAdminUrl', 'text', '', 'direct mode only'],
  ['apiKey', 'text', '', 'direct mode only'],
  ['apiSecret', 'text', '', 'direct mode only: public to every visitor!'],
  ['columns', 'json', '{}', 'rename {"PROPERTIES":"PROPS"} or drop {"CONTEXT":null}'],
  ['batchSize', 'number', '100', 'rows per request'],
  ['flushInterval', 'number', '1000', 'ms a row waits for others'],
  ['maxQueueRows', 'number', '5000', 'rows in localStorage (the oldest past it: memory only)'],
  ['maxQueueBytes', 'number', '1000000'],
  ['maxMemoryRows', 'number', '15000', 'rows held (the oldest past it are dropped)'],
  ['maxMemoryBytes', 'number', '15000000'],
  ['maxAttempts', 'number', '10', 'tries before a row is dropped'],
  ['persist', 'flag', true, 'queue survives reloads (localStorage)'],
  ['debug', 'flag', true, 'log requests and skipped calls to the console'],
]

const form = $('settings')
for (const [key, kind, value, hint] of FIELDS) {
  const input =
    kind === 'flag'
      ? h('input', { type: 'checkbox', name: key, ...(value ? { checked: '' } : {}) })
      : h('input', { type: 'text', name: key, value, placeholder: hint ?? '' })
  form.append(
    h(
      'label',
      { class: kind === 'flag' ? 'flag' : '', title: hint ?? '' },
      h('span', {}, key),
      input,
    ),
  )
}

/** The form as settings: empty fields left out, text that is no number or JSON kept as text so the plugin names it. */
function readSettings() {
  const settings = {}
  for (const [key, kind] of FIELDS) {
    const input = form.elements.namedItem(key)
    if (kind === 'flag') {
      settings[key] = input.checked
      continue
    }
    const text = input.value.trim()
    if (text === '' && key !== 'allowedEvents') continue
    if (kind === 'list')
      settings[key] = text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    else if (kind === 'number') settings[key] = Number.isFinite(+text) ? +text : text
    else if (kind === 'json') {
      try {
        settings[key] = JSON.parse(text)
      } catch {
        settings[key] = text
      }
    } else settings[key] = text
  }
  return settings
}

function checkSettings() {
  const problems = validateSettings(readSettings())
  $('problems').replaceChildren(...problems.map((p) => h('li', {}, p)))
  $('apply').disabled = problems.length > 0
  return problems
}
form.addEventListener('input', checkSettings)
$('fill-direct').addEventListener('click', () => {
  const set = (key, value) => (form.elements.namedItem(key).value = value)
  set('proxyUrl', '')
  set('smcAdminUrl', location.origin)
  set('apiKey', info.direct?.apiKey ?? '')
  set('apiSecret', info.direct?.apiSecret ?? '')
  checkSettings()
})

// ---- analytics and the plugin ---------------------------------------------------------------
// Nothing goes to Segment: project settings are given inline and the Segment.io destination is off.
const [analytics] = await window.AnalyticsNext.AnalyticsBrowser.load(
  { writeKey: 'demo', cdnSettings: { integrations: {}, metrics: { sampleRate: 0 } } },
  { integrations: { 'Segment.io': false } },
)
let plugin = selligentPlugin(readSettings())
await analytics.register(plugin)

// ---- consent --------------------------------------------------------------------------------
// Every call carries the visitor's choice as Segment's consent tools stamp it; a change is
// announced with their event (docs/consent.md).
let marketing = true
analytics.addSourceMiddleware(({ payload, next }) => {
  payload.obj.context.consent = { categoryPreferences: { Marketing: marketing } }
  next(payload)
})
$('consent-marketing').addEventListener('change', async (event) => {
  marketing = event.target.checked
  await analytics.track('Segment Consent Preference Updated')
  showStatus(marketing ? 'consent granted' : 'consent withdrawn: rows not sent yet discarded')
})

$('apply').addEventListener('click', async () => {
  if (checkSettings().length) return
  await analytics.deregister(PLUGIN_NAME)
  plugin = selligentPlugin(readSettings())
  await analytics.register(plugin)
  showStatus('settings applied')
})

// ---- errors ---------------------------------------------------------------------------------
const errors = []
function addError(text) {
  errors.unshift(`${new Date().toLocaleTimeString(undefined, { hour12: false })} ${text}`)
  $('errors').replaceChildren(...errors.slice(0, 8).map((e) => h('li', {}, e)))
}
analytics.on('error', (error) =>
  addError(`${error.code}: ${error.reason?.message ?? String(error.reason)}`),
)
for (const level of ['warn', 'error']) {
  const original = console[level]
  console[level] = (...args) => {
    if (String(args[0]).includes('Selligent')) addError(args.map(String).join(' '))
    original.apply(console, args)
  }
}

function showStatus(text) {
  $('status').textContent = text
}

// ---- calls ----------------------------------------------------------------------------------
const GROUP = {
  userId: 'segmenttest@selligent.com',
  groupId: 'SegmentToSMCStatic',
  traits: { matchkey: 'MAIL', method: 'ADD', userlist: 'USERS_SEGMENT' },
}
/** group matches on the identified user: identify as the payload's userId first when needed. */
async function group(p) {
  if (p.userId && analytics.user().id() !== p.userId) await fire('identify', { userId: p.userId })
  return analytics.group(p.groupId, p.traits)
}
const pageArgs = (p) => (p.category ? [p.category, p.name, p.properties] : [p.name, p.properties])
const CALLS = [
  {
    id: 'identify',
    label: 'identify',
    payload: { userId: 'userId123', traits: { property1: 1, property2: 'test', property3: true } },
    run: (p) => analytics.identify(p.userId, p.traits),
  },
  {
    id: 'track-allowed',
    label: 'track (allowed)',
    payload: {
      event: 'Order Completed',
      properties: { orderId: 'A-1001', total: 30, currency: 'EUR' },
    },
    run: (p) => analytics.track(p.event, p.properties),
  },
  {
    id: 'track-blocked',
    label: 'track (not allowed)',
    payload: { event: 'Product Viewed', properties: { sku: 'B-42' } },
    run: (p) => analytics.track(p.event, p.properties),
  },
  {
    id: 'page',
    label: 'page',
    payload: { name: 'Home', properties: {} },
    run: (p) => analytics.page(...pageArgs(p)),
  },
  {
    id: 'screen',
    label: 'screen',
    payload: { name: 'Home', properties: { 'Feed Type': 'private' } },
    run: (p) => analytics.screen(...pageArgs(p)),
  },
  {
    id: 'alias',
    label: 'alias',
    payload: { userId: '507f191e81' },
    run: (p) => analytics.alias(p.userId, p.previousId),
  },
  { id: 'group-add', label: 'group ADD', payload: GROUP, run: group },
  {
    id: 'group-remove',
    label: 'group REMOVE',
    payload: { ...GROUP, traits: { ...GROUP.traits, method: 'REMOVE' } },
    run: group,
  },
]
const byId = new Map(CALLS.map((c) => [c.id, c]))

/** Calls fired from this page, with what the plugin did with each. */
const fired = []
const accepted = (s) => s.queued + s.sent + Object.values(s.dropped).reduce((a, b) => a + b, 0)

/** Makes a call and notes whether the plugin queued it (its row count grew) or why not. */
async function fire(id, payload) {
  const call = byId.get(id)
  const entry = { call: call.label, payload, at: Date.now(), verdict: '…', messageId: '' }
  fired.unshift(entry)
  const before = accepted(plugin.stats)
  const refusedBefore = plugin.stats.skipped.consent ?? 0
  try {
    const ctx = await call.run(payload)
    entry.messageId = ctx?.event?.messageId ?? ''
    const reason = ctx
      ?.logs()
      .find((l) => String(l.message).includes(PLUGIN_NAME) && l.level !== 'debug')
    entry.verdict =
      accepted(plugin.stats) > before
        ? 'queued'
        : (plugin.stats.skipped.consent ?? 0) > refusedBefore
          ? 'not sent: consent missing'
          : `not sent${reason ? `: ${reason.message.replace(`[${PLUGIN_NAME}] `, '')}` : ' (filtered by the settings)'}`
  } catch (error) {
    entry.verdict = `error: ${error}`
  }
  return entry
}

for (const call of CALLS) {
  // One top-level key a line: easy to edit, short enough to see whole.
  const json = `{\n${Object.entries(call.payload)
    .map(([key, value]) => ` ${JSON.stringify(key)}: ${JSON.stringify(value)}`)
    .join(',\n')}\n}`
  const lines = String(Math.min(7, json.split('\n').length))
  const text = h('textarea', { rows: lines, spellcheck: 'false', id: `payload-${call.id}` }, json)
  const button = h('button', { type: 'button', id: `call-${call.id}` }, call.label)
  button.addEventListener('click', async () => {
    let payload
    try {
      payload = JSON.parse(text.value)
    } catch (error) {
      addError(`${call.label}: the payload is not JSON (${error.message})`)
      return
    }
    const entry = await fire(call.id, payload)
    showStatus(`${call.label}: ${entry.verdict}`)
  })
  $('calls').append(h('div', { class: 'call' }, button, text))
}

// ---- faults ---------------------------------------------------------------------------------
const setFaults = (faults) =>
  fetch('/__smc/faults', { method: 'POST', body: JSON.stringify(faults) }).then((r) => r.json())
$('fault-unavailable').addEventListener('change', (e) =>
  setFaults({ unavailable: e.target.checked }),
)
$('fault-rateLimited').addEventListener('change', (e) =>
  setFaults({ rateLimited: e.target.checked }),
)
$('fault-slow').addEventListener('change', (e) =>
  setFaults({ delayMs: e.target.checked ? 3000 : 0 }),
)
// The transport holds rows while navigator.onLine is false and flushes on `online`. The page
// cannot switch the network off; it makes the browser report offline and fires the events.
// (Chrome DevTools' Network → Offline is the real thing.)
let offline = false
Object.defineProperty(Navigator.prototype, 'onLine', { configurable: true, get: () => !offline })
$('fault-offline').addEventListener('change', (e) => {
  offline = e.target.checked
  window.dispatchEvent(new Event(offline ? 'offline' : 'online'))
})
if (info.mode !== 'simulator') {
  for (const id of ['fault-unavailable', 'fault-rateLimited', 'fault-slow', 'reset-smc'])
    $(id).disabled = true
}
$('flush').addEventListener('click', () => void plugin.flush())
$('reset-smc').addEventListener('click', () => void fetch('/__smc/reset', { method: 'POST' }))
$('leave').addEventListener('click', async () => {
  const { seq } = await fetch(`/__demo/traffic?since=${Number.MAX_SAFE_INTEGER}`).then((r) =>
    r.json(),
  )
  // Queued (each call resolves once the plugin has it) but not yet sent: flushInterval has not passed.
  await Promise.all(
    ['Left Page 1', 'Left Page 2', 'Left Page 3'].map((event) =>
      fire('track-allowed', { event: 'Order Completed', properties: { note: event } }),
    ),
  )
  location.href = `/left.html?since=${seq}`
})

// ---- panes ----------------------------------------------------------------------------------
$('mode').textContent =
  info.mode === 'simulator' ? 'relay → SMC simulator (in-process)' : 'relay → real SMC tenant'

let smcState
function renderQueue() {
  const s = plugin.stats
  const counts = (byReason) =>
    Object.entries(byReason)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ') || 0
  $('stats').replaceChildren(
    h(
      'dl',
      { class: 'stats' },
      [
        ['queued now', s.queued],
        ['of them in memory only', s.memoryOnly],
        ['sent', s.sent],
        ['requests', s.requests],
        ['of them halves of refused ones', s.splitRequests],
        ['retried', s.retried],
        ['beaconed', s.beaconed ?? 0],
        ['dropped', counts(s.dropped)],
        ['skipped', counts(s.skipped)],
        ['browser', offline ? 'offline (simulated)' : 'online'],
      ].map(([k, v]) =>
        h('div', { id: `stat-${k.split(' ')[0]}` }, h('dt', {}, k), h('dd', {}, String(v))),
      ),
    ),
  )
  const stored = new Set(
    Object.values(smcState?.lists ?? {}).flatMap((l) => l.records.map((r) => r.fields.EVENT_ID)),
  )
  $('queued').replaceChildren(
    fired.length
      ? h(
          'table',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'call'),
            h('th', {}, 'payload'),
            h('th', {}, 'plugin'),
            h('th', {}, 'in SMC'),
          ),
          fired
            .slice(0, 30)
            .map((e) =>
              h(
                'tr',
                {},
                h('td', {}, e.call),
                h(
                  'td',
                  { title: JSON.stringify(e.payload) },
                  JSON.stringify(e.payload).slice(0, 48),
                ),
                h('td', { class: e.verdict === 'queued' ? 'ok' : 'muted' }, e.verdict),
                h('td', {}, inSmc(e, stored)),
              ),
            ),
        )
      : h('p', { class: 'none' }, 'Fire a call above.'),
  )
}
/** Event rows are found by EVENT_ID; group calls change segment membership (SMC pane). */
function inSmc(entry, stored) {
  if (entry.verdict !== 'queued') return '—'
  if (entry.call.startsWith('group')) return 'see segment'
  return stored.has(entry.messageId) ? '✓ stored' : '…'
}
setInterval(renderQueue, 250)
renderQueue()
checkSettings()
poll(600, 0, (traffic, state) => {
  smcState = state
  renderWire($('wire'), traffic, state?.log)
  renderSmc($('smc'), state)
})
showStatus('ready')
document.body.dataset.ready = 'true'
