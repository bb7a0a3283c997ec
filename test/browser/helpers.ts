import type * as AnalyticsNextModule from '@segment/analytics-next'
import type { Analytics, Context, Plugin } from '@segment/analytics-next'
import {
  selligentPlugin,
  type SelligentCommonSettings,
  type SelligentPlugin,
  type SelligentSettings,
} from '../../src/index.js'

declare global {
  interface Window {
    /** analytics-next's own UMD build, loaded by the test page (web-test-runner.config.mjs). */
    AnalyticsNext: typeof AnalyticsNextModule
  }
}

export const { AnalyticsBrowser } = window.AnalyticsNext

/** One request as the recording server saw it. */
export interface Recorded {
  method: string
  path: string
  query: Record<string, string>
  rawQuery: string
  headers: Record<string, string>
  contentType: string
  /** `body` parsed as JSON where it is JSON. */
  body: unknown
  /** The body as it arrived (UTF-8 decoded). */
  text: string
}

let counter = 0
/** A namespace of the recording server no other test uses. */
export const namespace = (): string => `t${Date.now().toString(36)}${(counter++).toString(36)}`

export async function recorded(ns: string): Promise<Recorded[]> {
  return (await fetch(`/__rec/${ns}/log`)).json() as Promise<Recorded[]>
}

/**
 * Answers the recording server gives, in order; the last one repeats. One with `bodyContains`
 * answers every request whose body contains that text instead (test/server/recorder.mjs).
 */
export async function script(
  ns: string,
  answers: {
    status?: number
    headers?: Record<string, string>
    body?: unknown
    delayMs?: number
    times?: number
    destroy?: boolean
    bodyContains?: string
  }[],
): Promise<void> {
  await fetch(`/__rec/${ns}/script`, { method: 'POST', body: JSON.stringify(answers) })
}

/** Settings in proxy mode against the recording server, sending at once on flush. */
export function proxySettings(
  ns: string,
  extra: Partial<SelligentCommonSettings> = {},
): SelligentSettings {
  return {
    organization: 'acme',
    allowedEvents: ['Order Completed'],
    proxyUrl: `/rec/${ns}`,
    persist: false,
    flushInterval: 50,
    ...extra,
  }
}

/** The real analytics-next with the given plugins and nothing sent to Segment. */
export async function loadAnalytics(
  plugins: Plugin[],
  options: Record<string, unknown> = {},
): Promise<Analytics> {
  const [analytics] = await AnalyticsBrowser.load(
    { writeKey: 'test-write-key', cdnSettings: { integrations: {} } as never, plugins },
    {
      disableClientPersistence: true,
      ...options,
      integrations: { 'Segment.io': false, ...(options.integrations as object | undefined) },
    },
  )
  return analytics
}

/** A plugin in proxy mode registered on a fresh analytics-next. */
export async function setup(
  extra: Partial<SelligentCommonSettings> = {},
  options: Record<string, unknown> = {},
): Promise<{ ns: string; plugin: SelligentPlugin; analytics: Analytics }> {
  const ns = namespace()
  const plugin = selligentPlugin(proxySettings(ns, extra))
  const analytics = await loadAnalytics([plugin], options)
  return { ns, plugin, analytics }
}

/** Flushes the plugin and returns every request the server recorded. */
export async function sent(ns: string, plugin: SelligentPlugin): Promise<Recorded[]> {
  await plugin.flush()
  return recorded(ns)
}

/** The body rows of every recorded request, in order. */
export const rowsOf = (requests: Recorded[]): string[][] =>
  requests.flatMap((request) => request.body as string[][])

/** Polls until `check` holds or `timeoutMs` passes. */
export async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 3000,
): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export type { Analytics, Context }
