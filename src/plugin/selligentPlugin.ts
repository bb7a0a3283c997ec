import type { Analytics, Context, Plugin } from '@segment/analytics-next'
import { smcTarget } from '../smc/targets.js'
import { smcVerdict } from '../smc/smcVerdict.js'
import { createTransport } from '../transport/createTransport.js'
import type { DeliveryReport, Target, Transport, TransportStats } from '../transport/types.js'
import { version } from '../version.js'
import { resolveSettings, type ResolvedSettings } from './resolveSettings.js'
import type { SelligentSettings } from './SelligentSettings.js'
import { SettingsError } from './SettingsError.js'
import { toEventRow, type AliasIds } from './toEventRow.js'
import { toSegmentRequest } from './toSegmentRequest.js'

/** The plugin's name; the integrations object switches it off under this key. */
export const PLUGIN_NAME = 'Selligent Marketing Cloud'

/** The analytics-next destination plugin {@link selligentPlugin} returns. */
export interface SelligentPlugin extends Plugin {
  /** Delivery counters: queued, sent, requests, retried, dropped by reason. */
  readonly stats: Readonly<TransportStats>
  /** Sends everything queued now; resolves when those requests have settled. */
  flush(): Promise<void>
}

const warned = new Set<string>()

/** Each warning once per page, however many plugins are created. */
function warnOnce(message: string): void {
  if (warned.has(message)) return
  warned.add(message)
  console.warn(`[${PLUGIN_NAME}] ${message}`)
}

/** Whether the integrations object leaves the plugin on (analytics.js semantics). */
function isEnabled(integrations: Record<string, unknown> | undefined): boolean {
  const own = integrations?.[PLUGIN_NAME]
  return own === undefined ? integrations?.All !== false : own !== false
}

function isWanted(ctx: Context, settings: ResolvedSettings): boolean {
  const { type, event, integrations } = ctx.event
  return (
    isEnabled(integrations) &&
    (type === 'identify' ||
      (type === 'track'
        ? settings.allowedEvents.has(event as string)
        : // sendAliasEvents, sendGroupEvents, sendPageEvents, sendScreenEvents
          (settings as unknown as Record<string, unknown>)[
            `send${type[0]!.toUpperCase()}${type.slice(1)}Events`
          ] === true))
  )
}

/**
 * An analytics-next destination that sends identify / track / page / screen / alias / group calls
 * to Selligent Marketing Cloud, filtered by `settings` (docs/design.md#filtering) and mapped to
 * SMC's rows (docs/design.md#wire-contract).
 *
 * @example analytics.register(selligentPlugin({ organization: 'acme', allowedEvents: ['Order Completed'], proxyUrl: '/smc' }))
 */
export function selligentPlugin(input: SelligentSettings): SelligentPlugin {
  const { settings, problems, warnings } = resolveSettings(input)
  warnings.forEach(warnOnce)
  // Hooks act only when settings are valid, and everything below runs only from hooks and load.
  const s = settings as ResolvedSettings
  let transport: Transport | undefined
  let loaded = false
  let opening: ReturnType<typeof setTimeout> | undefined
  let analytics: Analytics | undefined
  let events: Target
  // Calls made before load() has finished wait here, bounded like what the queue holds.
  let held: Context[] = []
  // Once a user is identified, analytics-next overwrites an alias event's userId with the old id
  // (docs/design.md#alias-calls): such aliases wait for its `alias` emitter, which alone still
  // knows the new id.
  // It fires right after the destinations ran, in call order, with the `from` the call gave; an
  // emit whose `from` differs belongs to an alias this plugin did not see. The cap bounds lost emits.
  const aliases: Context[] = []
  // analytics-next hands events to destinations from a setTimeout, so a navigation right after
  // the calls can commit before it runs: at pagehide the calls not handed over yet are taken here.
  const undelivered = new Set<Context>()
  const taken = new WeakSet<Context>()
  // Contexts of this page's queued rows, so a failure can be reported on the call that made it.
  const contexts = new Map<string, Context>()

  function report({ type, ids, reason }: DeliveryReport): void {
    let orphans = false
    for (const id of ids) {
      const ctx = contexts.get(id)
      contexts.delete(id)
      if (type === 'sent') continue
      if (!ctx) {
        orphans = true
        continue
      }
      ctx.setFailedDelivery({ reason })
      ctx.log('error', `${PLUGIN_NAME}: delivery failed`, { reason, target: reason?.target })
      analytics?.emit('error', { code: 'delivery_failure', reason, ctx })
    }
    // Rows restored from an earlier page have no context left to report on.
    if (orphans) analytics?.emit('error', { code: 'delivery_failure', reason })
  }

  /**
   * The transport, created by the first call or the task after load(), whichever comes first:
   * load() itself stays cheap (docs/performance-page-view.md).
   */
  function open(): Transport {
    if (!transport) {
      clearTimeout(opening)
      transport = createTransport({
        ...s,
        judge: smcVerdict,
        storageKey: s.persist
          ? `selligent:${s.organization}:${s.eventsDataListApiName}`
          : undefined,
        onReport: report,
      })
    }
    return transport
  }

  function deliver(ctx: Context, alias?: AliasIds): void {
    if (!loaded) {
      if (held.push(ctx) > s.maxMemoryRows) held.shift()
      return
    }
    const { event } = ctx
    const request =
      event.type === 'group'
        ? toSegmentRequest(event, s.organization)
        : { target: events, row: toEventRow(event, s.columns, ctx.id, alias) }
    if (typeof request === 'string') {
      const message = `${PLUGIN_NAME}: group call not sent: ${request}`
      ctx.log('warn', message)
      if (s.debug) console.warn(message)
      return
    }
    const id = event.messageId ?? ctx.id
    contexts.set(id, ctx)
    // A row another tab delivers is never reported here: forget the oldest past what the queue holds.
    if (contexts.size > s.maxMemoryRows) contexts.delete(contexts.keys().next().value as string)
    open().push(request.target, request.row, id)
  }

  // Never throws, never awaits: analytics-next awaits destination hooks before a call resolves.
  function hook(ctx: Context): Context {
    try {
      undelivered.delete(ctx)
      if (settings && !taken.has(ctx) && isWanted(ctx, settings)) {
        if (ctx.event.type === 'alias' && analytics?.user().id()) {
          if (aliases.push(ctx) > 100) deliver(aliases.shift() as Context)
        } else deliver(ctx)
      }
    } catch (error) {
      ctx.log('error', `${PLUGIN_NAME}: call not sent`, { error })
    }
    return ctx
  }

  return {
    name: PLUGIN_NAME,
    type: 'destination',
    version,
    isLoaded: () => loaded,
    get stats() {
      // Before load only the held calls exist; nothing has been sent yet.
      return (
        transport?.stats ?? {
          queued: held.length,
          memoryOnly: held.length,
          sent: 0,
          requests: 0,
          splitRequests: 0,
          retried: 0,
          beaconed: 0,
          dropped: {},
        }
      )
    },
    flush: () => transport?.flush() ?? Promise.resolve(),
    // Deregistered: deliver what is queued rather than leave it to the next page.
    unload: () => transport?.flush(),
    load(_ctx, instance) {
      if (!settings) return Promise.reject(new SettingsError(problems))
      if (loaded) return Promise.resolve()
      loaded = true
      analytics = instance
      events = smcTarget(
        s.organization,
        s.eventsDataListApiName,
        s.columns.map(([, name]) => name),
      )
      // Queues earlier pages left are adopted even on a page that makes no call.
      opening = setTimeout(open)
      instance.on('alias', (to: string, from: string | null) => {
        const ctx = aliases[0]
        if (!ctx || (ctx.event.previousId ?? null) !== from) return
        aliases.shift()
        deliver(ctx, { to, from })
      })
      instance.on('dispatch_start', (ctx: Context) => undelivered.add(ctx))
      // Calls this plugin never sees (switched off, cancelled) leave the set when their run ends.
      instance.queue.on('flush', (ctx: Context) => undelivered.delete(ctx))
      addEventListener('pagehide', () => {
        for (const ctx of undelivered) {
          hook(ctx)
          taken.add(ctx)
        }
      })
      held.forEach((ctx) => deliver(ctx))
      held = []
      return Promise.resolve()
    },
    identify: hook,
    track: hook,
    page: hook,
    screen: hook,
    alias: hook,
    group: hook,
  }
}
