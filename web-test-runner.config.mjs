import { chromeLauncher } from '@web/test-runner-chrome'
import { esbuildPlugin } from '@web/dev-server-esbuild'
import { recorder } from './test/server/recorder.mjs'
import { readFileSync } from 'node:fs'
import { CHROME_ARGS, CHROME_PATH } from './scripts/chromium.mjs'

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'))

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  testsFinishTimeout: 300_000,
  middleware: [recorder],
  plugins: [
    esbuildPlugin({ ts: true, target: 'es2020', define: { __VERSION__: JSON.stringify(version) } }),
  ],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: CHROME_PATH,
        args: CHROME_ARGS,
      },
    }),
  ],
  // analytics-next's ESM build imports CommonJS the dev server cannot serve; its UMD build can.
  testRunnerHtml: (testFramework) => `<!doctype html>
<html>
  <head><meta charset="utf-8" /><title>selligent tests</title></head>
  <body>
    <script src="/node_modules/@segment/analytics-next/dist/umd/index.js"></script>
    <script type="module" src="${testFramework}"></script>
  </body>
</html>`,
}
