// `npm run bench:transport`: the test runner's real Chromium and recording server, running only
// the burst benchmark, which prints its figures to the console.
import config from '../web-test-runner.config.mjs'

export default {
  ...config,
  files: ['bench/transport-burst.test.ts'],
  testFramework: { config: { timeout: 60_000 } },
}
