// `selligent-analytics-plugin/relay`: the server half (docs/design.md#relay). Loads on any runtime with
// fetch; startRelayServer loads node:http, and the Redis client and metrics library when configured
// (docs/relay-scale-out.md), only when it is called.
export { createRelay, type ClientInfo, type Relay } from './createRelay.js'
export type { EventColumns, RelayLogEntry, RelayOptions } from './config/RelayOptions.js'
export type { RelayMetrics } from './RelayMetrics.js'
export type { RelayStore } from './limits/RelayStore.js'
export { ENV_NAMES } from './config/envNames.js'
export { RelayConfigError } from './RelayConfigError.js'
export { RelayError } from './RelayError.js'
export { STANDARD_COLUMNS } from '../smc/columns.js'
export type { InvalidRecordModel, LoadDataResponseModel } from '../smc/LoadDataResponseModel.js'
export { relayOptionsFromEnv, type RelayEnv } from './config/relayOptionsFromEnv.js'
export { toNodeListener } from './server/toNodeListener.js'
export type { RelayServerOptions } from './config/RelayServerOptions.js'
export { startRelayServer, type RelayServer } from './server/startRelayServer.js'
