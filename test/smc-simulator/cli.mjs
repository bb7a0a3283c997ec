#!/usr/bin/env node
// Starts the SMC simulator on its own: `node test/smc-simulator/cli.mjs`.
// Environment: PORT (default 8788; 0 for a free one), HOST (default 127.0.0.1), SIM_ORGANIZATION,
// SIM_API_KEY, SIM_API_SECRET, SIM_RATE_LIMIT_PER_MINUTE. Prints one line with its API URL; with
// SIM_PRINT_CALLS=1, then one line per API call: `call <start, ms since the epoch> <status> <rows>`.
import { createSmcSimulator } from './createSmcSimulator.mjs'

const env = process.env
const simulator = createSmcSimulator({
  ...(env.SIM_ORGANIZATION ? { organization: env.SIM_ORGANIZATION } : {}),
  ...(env.SIM_API_KEY ? { apiKey: env.SIM_API_KEY } : {}),
  ...(env.SIM_API_SECRET ? { apiSecret: env.SIM_API_SECRET } : {}),
  ...(env.SIM_RATE_LIMIT_PER_MINUTE
    ? { rateLimitPerMinute: Number(env.SIM_RATE_LIMIT_PER_MINUTE) }
    : {}),
  ...(env.SIM_PRINT_CALLS === '1'
    ? {
        onCall: (record) =>
          console.log(`call ${Date.parse(record.at)} ${record.status} ${record.rows}`),
      }
    : {}),
})
const server = await simulator.listen(Number(env.PORT ?? 8788), env.HOST ?? '127.0.0.1')
console.log(
  `smc-simulator listening on ${server.url} (API ${server.apiUrl}, state ${server.url}/__smc/state)`,
)
const stop = () => void server.close().then(() => process.exit(0))
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
