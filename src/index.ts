export { selligentPlugin } from './plugin/selligentPlugin.js'
export { PLUGIN_NAME } from './plugin/pluginName.js'
export type { SelligentPlugin } from './plugin/SelligentPluginApi.js'
export type { DestinationMiddleware, MiddlewarePayload } from './plugin/applyMiddleware.js'
export { validateSettings } from './plugin/validateSettings.js'
export { SettingsError } from './plugin/SettingsError.js'
export type {
  SelligentCommonSettings,
  SelligentDirectMode,
  SelligentProxyMode,
  SelligentSettings,
} from './plugin/SelligentSettings.js'
export type { StandardColumn } from './smc/columns.js'
export { DeliveryError } from './transport/DeliveryError.js'
export type { TransportStats } from './transport/types.js'
export type { Target } from './smc/Target.js'
