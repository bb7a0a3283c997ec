// `npm run demo`: builds first (see package.json), then starts the demo on PORT (default 8080).
// SMC_ADMIN_URL, SMC_ORGANIZATION, SMC_API_KEY, SMC_API_SECRET (…) point the relay at a real
// tenant instead of the simulator: the same variables as the selligent-relay CLI.
import { startDemoServer } from './startDemoServer.mjs'

try {
  const demo = await startDemoServer({
    port: Number(process.env.PORT ?? 8080),
    host: process.env.HOST ?? '127.0.0.1',
    env: process.env,
  })
  const backend =
    demo.mode === 'simulator'
      ? 'the SMC simulator (in-process)'
      : `the SMC tenant at ${process.env.SMC_ADMIN_URL}`
  console.log(`Selligent demo: ${demo.url}  (relay at /smc → ${backend}; Ctrl+C to stop)`)
  const stop = () => void demo.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (error) {
  const taken = error?.code === 'EADDRINUSE'
  console.error(
    taken
      ? `demo not started: port ${process.env.PORT ?? 8080} is taken; pick another with PORT, e.g. PORT=8081 npm run demo`
      : `demo not started: ${error instanceof Error ? error.message : String(error)}`,
  )
  process.exit(1)
}
