// A real nginx for the relay's tests: Debian's `nginx` (from nginx-light; never a downloaded
// binary; .ci/run installs it when missing) on a free loopback port, everything it writes kept
// in a temporary directory of its own.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../scripts/freePort.mjs'

/** How long nginx may take to listen. */
const START_TIMEOUT_MS = 10_000

/**
 * A real nginx serving one `server` on a loopback port, with `directives` (e.g. a `location`
 * block) inside it. `url` is where it listens; `stop` ends it and removes its directory.
 * @param {string} directives
 */
export async function startNginx(directives) {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'nginx-'))
  // One process, in the foreground, that writes nothing outside `dir`.
  const config = `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
${directives}
  }
}
`
  await writeFile(join(dir, 'nginx.conf'), config)
  const child = spawn(
    process.env.NGINX ?? '/usr/sbin/nginx',
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  )
  const exited = once(child, 'exit').then(async ([code]) => {
    const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')
    throw new Error(`nginx exited ${code}: ${log}`)
  })
  exited.catch(() => undefined)
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await Promise.race([listening(port), exited])
  } catch (error) {
    await stop()
    throw error
  }
  return { url: `http://127.0.0.1:${port}`, port, stop }
}

/** Resolves once something accepts connections on the loopback `port`. */
async function listening(port) {
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    const accepted = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.end()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (accepted) return
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}`)
    await sleep(50)
  }
}
