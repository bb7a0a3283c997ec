const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]']

/**
 * `value` as a URL when it is absolute and https, or plain http to a loopback host (a relay or an
 * SMC stand-in on the developer's machine); `undefined` otherwise. Credentials and rows never
 * travel in clear text over a network.
 */
export function httpsOrLoopbackUrl(value: unknown): URL | undefined {
  try {
    const url = new URL(value as string)
    if (
      url.protocol === 'https:' ||
      (url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname))
    ) {
      return url
    }
  } catch {
    // Not a URL: the caller names the problem.
  }
  return undefined
}
