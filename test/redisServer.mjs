// A real Redis for the relay's tests and benchmark: Debian's `redis-server` (never a downloaded
// binary; .ci/run installs it when missing) on a free loopback port, without persistence.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { freePort } from '../scripts/freePort.mjs'

/**
 * A real Redis (Debian's `redis-server`) on a loopback port, without persistence. `stop` ends
 * it; `start` starts it again on the same port, empty. With `password`, clients must give it.
 * @param {number} [port] @param {string} [password]
 */
export async function startRedis(port, password) {
  port ??= await freePort()
  const redis = { port, url: `redis://127.0.0.1:${port}`, child: undefined }
  redis.start = async () => {
    const child = spawn(
      process.env.REDIS_SERVER ?? '/usr/bin/redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        ...(password ? ['--requirepass', password] : []),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    await new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        out += chunk
        if (out.includes('Ready to accept connections')) resolve(undefined)
      })
      child.once('exit', (code) => reject(new Error(`redis-server exited ${code}: ${out}`)))
    })
    child.stdout.resume()
    redis.child = child
  }
  redis.stop = async () => {
    const { child } = redis
    redis.child = undefined
    if (!child || child.exitCode !== null) return
    child.kill('SIGKILL')
    await once(child, 'exit')
  }
  await redis.start()
  return redis
}
