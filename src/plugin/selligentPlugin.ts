import type { Analytics, Context, SegmentEvent } from '@segment/analytics-next'
import { smcTarget } from '../smc/targets.js'
import { smcVerdict } from '../smc/smcVerdict.js'
import { log, LOG_PREFIX, warnOnce } from '../log/log.js'
import { createTransport } from '../transport/createTransport.js'
import { nothingSent } from '../transport/createReporter.js'
import type { Target } from '../smc/Target.js'
import type { Transport } from '../transport/types.js'
import { version } from '../version.js'
import { createFailureReporter, type FailureReporter } from './createFailureReporter.js'
import { applyMiddleware, type DestinationMiddleware } from './applyMiddleware.js'
import { PLUGIN_NAME } from './pluginName.js'
import { resolveSettings, type ResolvedSettings } from './resolveSettings.js'
import { skipReason } from './skipReason.js'
import type { SelligentPlugin } from './SelligentPluginApi.js'
import type { SelligentSettings } from './SelligentSettings.js'
import { SettingsError } from './SettingsError.js'
import { toEventRow, type AliasIds } from './toEventRow.js'
import { toSegmentRequest } from './toSegmentRequest.js'

/**
 * Aliases waiting for analytics-next's `alias` emitter at most: past it the oldest is sent with
 * the ids the call holds.
 */
const MAX_WAITING_ALIASES = 100

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
  let opening: ReturnType<typeof setTimeout> | undefined
  // Set by load(): the plugin is loaded once it knows its analytics instance.
  let analytics: Analytics | undefined
  // Set by load() too: built from the settings, which an invalid plugin lacks.
  let events: Target
  // Made by load(), with the instance it reports to. A call before load() can open the transport,
  // which may then deliver what an earlier page left: no call of this page to report that on.
  let failures: FailureReporter | undefined
  // Calls made before load() has finished wait here, bounded like what the queue holds.
  let held: [Context, SegmentEvent][] = []
  // Once a user is identified, analytics-next overwrites an alias event's userId with the old id
  // (docs/design.md#alias-calls): such aliases wait for its `alias` emitter, which alone still
  // knows the new id.
  // It fires right after the destinations ran, in call order, with the `from` the call gave; an
  // emit whose `from` differs belongs to an alias this plugin did not see. The cap bounds lost emits.
  const aliases: [Context, SegmentEvent][] = []
  const middlewares: DestinationMiddleware[] = []
  // The visitor withdrew a category of `consentCategories` and has not granted it again since.
  let withdrawn = false
  // analytics-next hands events to destinations from a setTimeout, so a navigation right after
  // the calls can commit before it runs: at pagehide the calls not handed over yet are taken here.
  // Only calls made while registered: after `deregister` (consent withdrawn, docs/consent.md) the
  // analytics instance still emits, and nothing made then may reach SMC.
  let registered = false
  const undelivered = new Set<Context>()
  const taken = new WeakSet<Context>()

  /**
   * The transport, created by the first call or the task after load(), whichever comes first:
   * load() itself stays cheap (docs/performance-page-view.md).
   */
  function open(): Transport {
    if (!transport) {
      clearTimeout(opening)
      const storageKey = `selligent:${s.organization}:${s.eventsDataListApiName}`
      transport = createTransport({
        ...s,
        judge: smcVerdict,
        storageKey: s.persist ? storageKey : undefined,
        discardChannel: s.consentCategories.length ? storageKey : undefined,
        onReport: (report) => failures?.report_(report),
      })
    }
    return transport
  }

  function deliver(ctx: Context, event: SegmentEvent, alias?: AliasIds): void {
    if (!analytics) {
      held.push([ctx, event])
      if (held.length > s.maxMemoryRows) held.shift()
      return
    }
    const request =
      event.type === 'group'
        ? toSegmentRequest(event, s.organization, s.identityToken)
        : { target: events, row: toEventRow(event, s.columns, ctx.id, alias) }
    if (typeof request === 'string') {
      const message = `group call not sent: ${request}`
      ctx.log('warn', `${LOG_PREFIX} ${message}`)
      if (s.debug) log('warn', message)
      return
    }
    const id = event.messageId ?? ctx.id
    failures?.remember_(id, ctx)
    open().push(request.target, request.row, id)
  }

  function logSkipped(ctx: Context, why: string): void {
    if (s.debug) log('info', `${ctx.event.type} call not sent:`, why, ctx.event)
  }

  /** Counts a call never queued under `reason` (`stats.skipped`). */
  function skip(ctx: Context, reason: 'consent' | 'middleware', why: string): Context {
    const { skipped } = open().stats
    skipped[reason] = (skipped[reason] ?? 0) + 1
    logSkipped(ctx, why)
    return ctx
  }

  /**
   * Whether the visitor granted every category of `consentCategories` (docs/consent.md). A call
   * without preferences is refused; one whose preferences withdraw a category also discards every
   * row not sent yet, here and in the other tabs, the first time since the last grant.
   */
  function isConsented(ctx: Context): boolean {
    const required = s.consentCategories
    const preferences = ctx.event.context?.consent?.categoryPreferences as
      Record<string, unknown> | undefined
    if (required.every((category) => preferences?.[category] === true)) {
      withdrawn = false
      return true
    }
    if (preferences && !withdrawn) {
      withdrawn = true
      held = []
      aliases.length = 0
      open().discard()
    }
    skip(ctx, 'consent', `consent missing for ${required.join(', ')}`)
    return false
  }

  /** Filters the event the middlewares let through, and queues it. Never throws. */
  function route(ctx: Context, event: SegmentEvent): Context {
    try {
      const skipped = skipReason(event, s)
      if (skipped) {
        logSkipped(ctx, skipped)
      } else if (event.type === 'alias' && analytics?.user().id()) {
        aliases.push([ctx, event])
        if (aliases.length > MAX_WAITING_ALIASES) deliver(...aliases.shift()!)
      } else deliver(ctx, event)
    } catch (error) {
      ctx.log('error', `${LOG_PREFIX} call not sent`, { error })
    }
    return ctx
  }

  // Never throws, and awaits only destination middlewares: analytics-next awaits destination hooks
  // before a call resolves. Consent first: an opt-out consent wrapper's middleware drops the very
  // event that withdraws consent.
  function hook(ctx: Context): Context | Promise<Context> {
    try {
      undelivered.delete(ctx)
      if (!settings || taken.has(ctx) || !isConsented(ctx)) return ctx
      if (middlewares.length) {
        return applyMiddleware(ctx.event, middlewares, PLUGIN_NAME).then(
          (event) =>
            event ? route(ctx, event) : skip(ctx, 'middleware', 'dropped by a middleware'),
          (error: unknown) => {
            log('error', `${ctx.event.type} call not sent: a destination middleware threw`, error)
            return skip(ctx, 'middleware', 'a middleware threw')
          },
        )
      }
    } catch (error) {
      ctx.log('error', `${LOG_PREFIX} call not sent`, { error })
      return ctx
    }
    return route(ctx, ctx.event)
  }

  return {
    name: PLUGIN_NAME,
    type: 'destination',
    version,
    isLoaded: () => !!analytics,
    get stats() {
      // Before load only the held calls exist; nothing has been sent yet.
      return transport?.stats ?? { queued: held.length, memoryOnly: held.length, ...nothingSent() }
    },
    flush: async () => transport?.flush(),
    addMiddleware(...added) {
      middlewares.push(...added)
    },
    // Deregistered: deliver what is queued rather than leave it to the next page.
    unload() {
      registered = false
      return transport?.flush()
    },
    async load(_ctx, instance) {
      if (!settings) throw new SettingsError(problems)
      registered = true
      if (analytics) return
      analytics = instance
      failures = createFailureReporter(instance, s.maxMemoryRows)
      events = smcTarget(
        s.organization,
        s.eventsDataListApiName,
        s.columns.map(([, name]) => name),
      )
      // Queues earlier pages left are adopted even on a page that makes no call.
      opening = setTimeout(open)
      instance.on('alias', (to: string, from: string | null) => {
        const [ctx, event] = aliases[0] ?? []
        if (!ctx || !event || (event.previousId ?? null) !== from) return
        aliases.shift()
        deliver(ctx, event, { to, from })
      })
      instance.on('dispatch_start', (ctx: Context) => registered && undelivered.add(ctx))
      // A call analytics-next did not hand to this plugin (switched off, dropped by a middleware)
      // leaves the set when its run ends: delivered to the other destinations, or cancelled.
      const notHandedOver = (ctx: Context): void => {
        if (undelivered.delete(ctx)) {
          logSkipped(ctx, 'integrations or middleware')
        }
      }
      instance.queue.on('delivery_success', notHandedOver)
      instance.queue.on('delivery_failure', notHandedOver)
      addEventListener('pagehide', () => {
        for (const ctx of undelivered) {
          hook(ctx)
          taken.add(ctx)
        }
      })
      held.forEach(([ctx, event]) => deliver(ctx, event))
      held = []
    },
    identify: hook,
    track: hook,
    page: hook,
    screen: hook,
    alias: hook,
    group: hook,
  }
}
