// The page side of `npm run bench` (bench/bench.mjs bundles this with analytics-next for the page).
// It builds N realistic analytics-next Contexts once, then hands the very same contexts to the
// `track` hook of one setup per run: an empty destination (baseline), this plugin in proxy mode,
// or analytics-next's own Segment.io destination, both pointed at the bench's local server.
import { AnalyticsBrowser, Context, segmentio } from '@segment/analytics-next'
import { selligentPlugin } from '../dist/index.js'
// Another build of this plugin, for comparing two builds in one run (BENCH_BEFORE in bench.mjs).
import { selligentPlugin as selligentPluginBefore } from 'selligent-before'

const WRITE_KEY = 'bench-write-key-0123456789'
const ORGANIZATION = 'acme'
// analytics-next reports its own metrics to Segment's servers unless told not to.
const NO_METRICS = { sampleRate: 0 }

// A shop's usual tracking plan: names and property shapes as a site sends them.
const PRODUCT = {
  product_id: 'sku-4815162342',
  sku: 'TS-BLU-M',
  category: 'Apparel',
  name: 'Organic cotton T-shirt',
  brand: 'Acme',
  variant: 'blue / M',
  price: 24.9,
  quantity: 1,
  currency: 'EUR',
  url: 'https://shop.example.com/p/organic-cotton-t-shirt',
  image_url: 'https://cdn.example.com/img/ts-blu-m.jpg',
}
const TRACKING_PLAN = [
  ['Product Viewed', { ...PRODUCT, position: 3 }],
  ['Products Searched', { query: 'cotton t-shirt blue' }],
  ['Product Added', { cart_id: 'c-99812', ...PRODUCT, quantity: 2 }],
  [
    'Cart Viewed',
    {
      cart_id: 'c-99812',
      products: [PRODUCT, { ...PRODUCT, product_id: 'sku-2', sku: 'TS-RED-L', variant: 'red / L' }],
    },
  ],
  [
    'Checkout Started',
    {
      order_id: 'o-5521',
      value: 49.8,
      revenue: 41.5,
      tax: 8.3,
      shipping: 0,
      currency: 'EUR',
      products: [PRODUCT],
    },
  ],
  [
    'Order Completed',
    {
      checkout_id: 'co-1',
      order_id: 'o-5521',
      affiliation: 'web',
      total: 49.8,
      revenue: 41.5,
      tax: 8.3,
      shipping: 0,
      discount: 0,
      coupon: '',
      currency: 'EUR',
      products: [PRODUCT, { ...PRODUCT, product_id: 'sku-2', sku: 'TS-RED-L', variant: 'red / L' }],
    },
  ],
  ['Signed Up', { method: 'email', plan: 'free', newsletter: true }],
  ['Newsletter Subscribed', { list: 'weekly', source: 'footer' }],
]
export const EVENT_NAMES = TRACKING_PLAN.map(([name]) => name)

let analytics
let contexts = []
let setup
let warm

/** Loads analytics-next (no destinations: Segment.io switched off), identifies a visitor. */
async function loadAnalytics() {
  if (analytics) return analytics
  history.replaceState(
    null,
    '',
    '/shop/checkout?utm_source=newsletter&utm_medium=email&utm_campaign=spring',
  )
  ;[analytics] = await AnalyticsBrowser.load(
    { writeKey: WRITE_KEY, cdnSettings: { integrations: {}, metrics: NO_METRICS } },
    { integrations: { 'Segment.io': false } },
  )
  await analytics.identify('user-5f2c9a41', {
    email: 'jane.doe@example.com',
    name: 'Jane Doe',
    plan: 'premium',
    createdAt: '2024-03-14T09:26:53.000Z',
  })
  return analytics
}

let templates = []
// A page view's calls, as analytics-next made them: a page, an identify, one track of each event.
let pageViewTemplates = []

/**
 * Builds n contexts up front. Each tracking-plan event goes once through analytics-next itself
 * (its event factory and page enrichment: context.page, userAgent, locale, campaign, library…);
 * the n contexts are copies of those with analytics-next's own messageId format and
 * advancing timestamps, wrapped in analytics-next's Context (analytics-next runs one event per
 * task with clamped timers, so making 10,000 of them through `track()` would take minutes).
 */
export async function init(n) {
  await loadAnalytics()
  if (!templates.length) {
    for (const [name, properties] of TRACKING_PLAN) {
      templates.push((await analytics.track(name, properties)).event)
    }
  }
  makeContexts(n)
  return { n, sample: contexts[0]?.event }
}

/**
 * Builds the contexts of one page view: a `page`, an `identify` and 8 `track`s (one of each event
 * of the tracking plan), made by analytics-next itself, with fresh message ids.
 */
export async function initPageView() {
  await loadAnalytics()
  if (!pageViewTemplates.length) {
    pageViewTemplates.push((await analytics.page('Shop', 'Checkout')).event)
    pageViewTemplates.push(
      (await analytics.identify('user-5f2c9a41', { email: 'jane.doe@example.com' })).event,
    )
    for (const [name, properties] of TRACKING_PLAN) {
      pageViewTemplates.push((await analytics.track(name, properties)).event)
    }
  }
  contexts = pageViewTemplates.map((template) => {
    const event = structuredClone(template)
    event.messageId = `ajs-next-${Date.now()}-${crypto.randomUUID()}`
    return new Context(event)
  })
  return contexts.length
}

/** (Re)makes the n contexts, with fresh message ids. */
export function makeContexts(n) {
  const start = Date.now() - n
  contexts = Array.from({ length: n }, (_, i) => {
    const event = structuredClone(templates[i % templates.length])
    event.messageId = `ajs-next-${start + i}-${crypto.randomUUID()}`
    event.timestamp = new Date(start + i)
    return new Context(event)
  })
  return n
}

/** Lets the contexts go, so that what stays on the heap is what the setup holds. */
export function releaseContexts() {
  contexts = []
}

/** A destination of the bench's own: `hook` takes every call the page view makes. */
const destination = (name, hook) => ({
  name,
  type: 'destination',
  version: '0.0.0',
  isLoaded: () => true,
  load: () => Promise.resolve(),
  track: hook,
  page: hook,
  identify: hook,
})

const baseline = () => destination('Empty destination', (ctx) => ctx)

/** Sends `body` as the plugin does (Blob body, credentials omitted) and reads the answer. */
const post = (url, body, keepalive) =>
  void fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' },
    body: new Blob([body]),
    keepalive,
    credentials: 'omit',
  })
    .then((response) => response.json())
    .catch(() => undefined)

/**
 * The floor under any destination that delivers these events as this plugin does: the very
 * request bodies the plugin sent in an earlier run of the same contexts (rows mapped, bodies
 * joined, all before the run), each sent as soon as the hook call that completed it in that run
 * arrives, the way the plugin sends them (Blob body, answer read and parsed; plain fetch, as
 * several may be out at once). No mapping, no queue, no storage, no retry: what the requests and
 * their bytes alone cost this browser.
 */
const floor = (sent, url, merge = 1) => {
  // `merge` bodies in one request: what fewer, bigger requests of the same bytes would cost.
  const bodies = []
  for (let i = 0; i < sent.length; i += merge) {
    bodies.push(merge > 1 ? `[${sent.slice(i, i + merge).map((b) => b.slice(1, -1))}]` : sent[i])
  }
  const rows = bodies.map((body) => JSON.parse(body).length)
  let calls = 0
  let next = 0
  let due = rows[0]
  return destination('Floor', (ctx) => {
    if (++calls === due) {
      post(url, bodies[next], false)
      due += rows[++next] ?? Infinity
    }
    return ctx
  })
}

/** The context keys the plugin keeps in its CONTEXT cell. */
const CONTEXT_KEYS = ['page', 'userAgent', 'locale', 'timezone', 'campaign', 'referrer']

/**
 * The least a destination delivering these rows can do: each call mapped to the plugin's row (its
 * nine columns) with `JSON.stringify`, the rows sent as one request a second after the first call
 * (the plugin's `flushInterval`), the answer read and parsed. Nothing else: no queue, no storage,
 * no tabs, no retries, no page leave, no report of failures, no value made safe.
 */
const bare = (url) => {
  let rows = []
  let timer
  return destination('Bare', (ctx) => {
    const { event } = ctx
    const context = {}
    for (const key of CONTEXT_KEYS) {
      if (event.context?.[key] !== undefined) context[key] = event.context[key]
    }
    const properties = event.type === 'identify' ? event.traits : event.properties
    rows.push(
      JSON.stringify([
        event.messageId,
        event.type,
        event.event ?? event.name ?? '',
        event.userId ?? '',
        event.anonymousId ?? '',
        '',
        JSON.stringify(properties ?? {}),
        JSON.stringify(context),
        new Date(event.timestamp).toISOString(),
      ]),
    )
    timer ??= setTimeout(() => {
      post(url, `[${rows}]`, true)
      rows = []
      timer = undefined
    }, 1000)
    return ctx
  })
}

/** Creates and loads one setup's plugin for run `run`; its requests are tagged with the run. */
export async function prepare(kind, run, options = {}) {
  const tag = `r${String(run).padStart(4, '0')}`
  let plugin
  if (kind === 'baseline') plugin = baseline()
  else if (kind === 'ours' || kind === 'before') {
    plugin = (kind === 'ours' ? selligentPlugin : selligentPluginBefore)({
      organization: ORGANIZATION,
      // A list per run keeps each run's persisted queue (and tab lease) to itself.
      eventsDataListApiName: `bench_${tag}`,
      allowedEvents: EVENT_NAMES,
      // A page view's `page` call is one of its rows (bursts are tracks only).
      sendPageEvents: true,
      proxyUrl: options.proxyUrl ?? '/smc',
      ...options.settings,
    })
  } else if (kind === 'bare') {
    plugin = bare(`/smc/organizations/${ORGANIZATION}/lists/bench_${tag}/data/load`)
  } else if (kind === 'floor') {
    if (!options.bodies?.length) throw new Error('floor: no complete run of this plugin to replay')
    plugin = floor(
      options.bodies,
      `/smc/organizations/${ORGANIZATION}/lists/bench_${tag}/data/load?keyFields=EVENT_ID`,
      options.merge,
    )
  } else if (kind === 'segment') {
    plugin = segmentio(
      analytics,
      {
        apiKey: WRITE_KEY,
        apiHost: options.apiHost ?? `${location.host}/seg/${tag}`,
        protocol: 'http',
        deliveryStrategy: { strategy: 'batching', config: { size: 20, timeout: 1000 } },
      },
      { 'Segment.io': { apiKey: WRITE_KEY } },
    )
  } else throw new Error(`unknown setup ${kind}`)
  // A page view's load() is part of what is measured: `start` calls it.
  if (!options.loadInStart) await load(plugin)
  // analytics-next sets attempts to 1 before the destinations run; Segment.io counts on it.
  for (const ctx of contexts) ctx.attempts = 1
  setup = { kind, plugin, loaded: !options.loadInStart }
  return tag
}

const load = (plugin) => plugin.load(new Context({ type: 'track', event: 'load' }), analytics)

/**
 * Hands every context to the setup's `track` hook, as analytics-next does: from timer tasks, a
 * few events per task. `rate` events per second (setTimeout ticks, ~4 ms apart once nested, each
 * calling the hooks that are due); `rate` 0 is a burst: `perTask` calls per task, back to back
 * (MessageChannel, no timer clamping). Resolves when every hook has been called.
 */
export async function start(rate = 0, perTask = 1) {
  const { plugin } = setup
  const n = contexts.length
  let i = 0
  let hookMs = 0
  let longestCall = 0
  // Not loaded yet (a page view): load() first, timed from the call until its promise resolved.
  let loadMs = 0
  if (!setup.loaded) {
    const started = performance.now()
    await load(plugin)
    loadMs = performance.now() - started
    setup.loaded = true
  }
  const t0 = performance.now()
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel()
    const tick = () => {
      const now = performance.now()
      const due = rate
        ? Math.min(n, Math.floor(((now - t0) * rate) / 1000) + 1)
        : Math.min(n, i + perTask)
      for (; i < due; i++) void plugin[contexts[i].event.type](contexts[i])
      const spent = performance.now() - now
      hookMs += spent
      if (spent > longestCall) longestCall = spent
      if (i < n) {
        if (rate) setTimeout(tick, 1)
        else port2.postMessage(0)
      } else {
        port1.close()
        resolve({ hookMs, longestCall, loadMs, spreadMs: performance.now() - t0 })
      }
    }
    port1.onmessage = tick
    tick()
  })
}

/** The setup's own counters, then the run's storage is cleared for the next one. */
export function finish() {
  const stats = setup.plugin.stats ? JSON.parse(JSON.stringify(setup.plugin.stats)) : undefined
  const storage = storageBytes()
  localStorage.clear()
  setup = undefined
  return { stats, storage }
}

/** localStorage use of keys matching `pattern`: characters of keys and values (UTF-16 in Chromium). */
export function storageBytes(pattern = '') {
  const match = new RegExp(pattern)
  let chars = 0
  const keys = []
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i)
    if (!match.test(key)) continue
    keys.push(key)
    chars += key.length + (localStorage.getItem(key) ?? '').length
  }
  return { keys, chars }
}

export function stats() {
  return setup?.plugin.stats ? JSON.parse(JSON.stringify(setup.plugin.stats)) : undefined
}

/**
 * The whole pipeline: `analytics.track()` through analytics-next, with or without a destination
 * (ours, or Segment.io configured the way its CDN settings would). One AnalyticsBrowser per setup.
 */
export async function pipelineLoad(kind, run) {
  const tag = `p${String(run).padStart(4, '0')}`
  const integrations = {}
  const options = { integrations: { 'Segment.io': false } }
  if (kind === 'segment') {
    integrations['Segment.io'] = {
      apiKey: WRITE_KEY,
      apiHost: `${location.host}/seg/${tag}`,
      protocol: 'http',
      deliveryStrategy: { strategy: 'batching', config: { size: 20, timeout: 1000 } },
    }
    delete options.integrations
  }
  const [instance] = await AnalyticsBrowser.load(
    { writeKey: `${WRITE_KEY}-${tag}`, cdnSettings: { integrations, metrics: NO_METRICS } },
    options,
  )
  if (kind === 'ours') {
    await instance.register(
      selligentPlugin({
        organization: ORGANIZATION,
        eventsDataListApiName: `bench_${tag}`,
        allowedEvents: EVENT_NAMES,
        proxyUrl: '/smc',
      }),
    )
  }
  await instance.identify('user-5f2c9a41')
  warm = instance
  return tag
}

/** Makes n `analytics.track()` calls at once; resolves when analytics-next has resolved them all. */
export async function pipelineRun(n) {
  const calls = []
  for (let i = 0; i < n; i++) {
    const [name, properties] = TRACKING_PLAN[i % TRACKING_PLAN.length]
    calls.push(warm.track(name, properties))
  }
  await Promise.all(calls)
  return n
}

export function heap() {
  return performance.memory
    ? { used: performance.memory.usedJSHeapSize, total: performance.memory.totalJSHeapSize }
    : undefined
}
