// What the demo's relay forwards to: the in-process SMC simulator by default, or a real tenant
// when SMC_ADMIN_URL is set (the same environment variables as the selligent-relay CLI).
import { relayOptionsFromEnv } from '../dist/relay.js'
import { createSmcSimulator } from '../test/smc-simulator/createSmcSimulator.mjs'
import {
  DEFAULT_API_KEY,
  DEFAULT_API_SECRET,
  DEFAULT_ORGANIZATION,
} from '../test/smc-simulator/defaults.mjs'

/**
 * The static segment the demo lets browsers change, matched on MAIL, REMOVE allowed (the doc's
 * example).
 */
const DEMO_SEGMENTS = ['USERS_SEGMENT/SegmentToSMCStatic:MAIL:remove']

/**
 * @param {Record<string, string | undefined>} env
 * @returns {{ mode: 'simulator' | 'tenant', relayOptions: import('../dist/relay/index.js').RelayOptions,
 *   simulator: ReturnType<typeof createSmcSimulator> | undefined, problems: readonly string[],
 *   directCredentials?: { apiKey: string, apiSecret: string } }}
 */
export function smcBackend(env) {
  if (env.SMC_ADMIN_URL) {
    const { options, problems } = relayOptionsFromEnv(env)
    return { mode: 'tenant', relayOptions: options, simulator: undefined, problems }
  }
  const simulator = createSmcSimulator()
  return {
    mode: 'simulator',
    simulator,
    problems: [],
    directCredentials: { apiKey: DEFAULT_API_KEY, apiSecret: DEFAULT_API_SECRET },
    relayOptions: {
      // Loopback http is allowed; the requests never leave the process (see fetch).
      smcAdminUrl: 'http://127.0.0.1',
      organization: DEFAULT_ORGANIZATION,
      apiKey: DEFAULT_API_KEY,
      apiSecret: DEFAULT_API_SECRET,
      segments: DEMO_SEGMENTS,
      fetch: (input, init) => simulator.handler(new Request(input, init)),
    },
  }
}
