// Imports TypeScript from src/ by bundling it in memory, for tests that need code the package
// does not export (the relay's defaults table, the verdict browsers apply).
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = new URL('../../', import.meta.url)

/** The module `contents` (TypeScript, paths relative to the repository root) makes. */
export async function importSource(contents) {
  const { outputFiles } = await build({
    stdin: { contents, loader: 'ts', resolveDir: fileURLToPath(ROOT) },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
  })
  const code = Buffer.from(outputFiles[0].contents).toString('base64')
  return import(`data:text/javascript;base64,${code}`)
}
