/** The plugin's name; the integrations object switches it off under this key. */
export const PLUGIN_NAME = 'Selligent Marketing Cloud'
