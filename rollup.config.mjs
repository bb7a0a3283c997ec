import { readFileSync } from 'node:fs'
import typescript from '@rollup/plugin-typescript'
import terser from '@rollup/plugin-terser'
import replace from '@rollup/plugin-replace'

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'))
const stamp = () =>
  replace({ preventAssignment: true, values: { __VERSION__: JSON.stringify(version) } })
const ts = (declarations) =>
  typescript({
    tsconfig: './tsconfig.build.json',
    declaration: declarations,
    declarationDir: declarations ? 'dist' : undefined,
    outDir: 'dist',
  })

// Internal property names end in `_` and are shortened here, in the browser bundles only: the
// source reads in full names at no byte cost (docs/design.md#readable-names-shortened-by-the-build).
const mangleInternalNames = { properties: { regex: /_$/ } }

// `selligent-analytics-plugin/iife` defines a global and exports nothing: its types say so.
const iifeTypes = () => ({
  name: 'iife-types',
  generateBundle() {
    this.emitFile({
      type: 'asset',
      fileName: 'selligent.iife.d.ts',
      source: `import type { selligentPlugin } from './index.js'

declare global {
  /** Defined by the script-tag bundle (docs/script-tag.md). */
  var SelligentMarketingCloud: {
    /** The plugin factory, for sites that register it from their own code. */
    readonly selligentPlugin: typeof selligentPlugin
    /** The version of this package. */
    readonly version: string
  }
}

export {}
`,
    })
  },
})

// Four passes: terser compresses until its output stops shrinking (docs/performance.md).
// Function expressions that use no `this` become arrows: the source has none that is constructed
// or needs a prototype. Only functions without parameters are inlined: an inlined function's
// parameters become `var`s of its caller, which weigh more than the call they save.
const compress = { passes: 4, unsafe_arrows: true, inline: 1 }

// analytics-next is a peer dependency imported as types only: nothing of it may be bundled. The
// relay's Redis client and metrics library are optional peer dependencies, imported on demand.
// tldts (the Public Suffix List) is the relay's dependency, resolved where the relay is installed
// or bundled: the list changes every few weeks, and `npm update` then brings it without a release
// of this package (docs/relay.md, "Security").
const external = (id) =>
  id.startsWith('@segment/') ||
  id.startsWith('node:') ||
  id.startsWith('@redis/') ||
  id === 'prom-client' ||
  id === 'tldts'

export default [
  // The browser entry on its own, so dist/index.js shares no chunk with the server code.
  {
    input: 'src/index.ts',
    external,
    output: { file: 'dist/index.js', format: 'es', sourcemap: true },
    plugins: [
      stamp(),
      ts(true),
      terser({ ecma: 2020, module: true, compress, mangle: mangleInternalNames }),
    ],
  },
  {
    input: { relay: 'src/relay/index.ts', 'relay-cli': 'src/relay/cli.ts' },
    external,
    output: {
      dir: 'dist',
      format: 'es',
      sourcemap: true,
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
      // The `selligent-relay` bin runs by itself.
      banner: (chunk) => (chunk.name === 'relay-cli' ? '#!/usr/bin/env node' : ''),
    },
    plugins: [stamp(), ts(true)],
  },
  {
    input: 'src/iife.ts',
    external,
    output: { file: 'dist/selligent.iife.min.js', format: 'iife', sourcemap: true },
    plugins: [
      iifeTypes(),
      stamp(),
      ts(false),
      terser({ ecma: 2020, module: false, compress, mangle: mangleInternalNames }),
    ],
  },
]
