import { parseIp, type IpBytes } from './parseIp.js'
import type { ResolvedRelayOptions } from '../config/ResolvedRelayOptions.js'

/** The key of every request whose client has no IP address the relay can tell. */
const UNKNOWN = 'unknown'

/**
 * The key the per-client limit counts a request under (docs/relay.md#behind-a-proxy): the
 * address of the peer (`peer`, from the runtime adapter), or, when the peer is one of the
 * `trustedProxies`, the client address it names in `clientAddressHeader`. A value that is not an
 * IP address names nobody, and the peer counts. IPv4 addresses are keys as they are, IPv6 ones by
 * their /64, so that a client cannot become many by rotating through its own block; either way
 * a key is short, whatever a client sends.
 */
export function clientKey(
  headers: Headers,
  peer: string | undefined,
  config: Pick<ResolvedRelayOptions, 'clientAddressHeader' | 'isTrustedProxy'>,
): string {
  const peerIp = peer === undefined ? undefined : parseIp(peer)
  if (!peerIp) return UNKNOWN
  const { clientAddressHeader: header, isTrustedProxy } = config
  const value = header && isTrustedProxy(peerIp) ? headers.get(header) : null
  if (value === null) return keyOf(peerIp)
  const named =
    header === 'x-forwarded-for' ? forwardedClient(value, isTrustedProxy) : parseIp(value.trim())
  return keyOf(named ?? peerIp)
}

/**
 * The client of an `X-Forwarded-For` list. Each proxy appends the address it saw, and a client
 * writes whatever it likes before them, so the list is read from the right past the trusted
 * proxies: the first address that is not one is the client (if all are, the leftmost, as nginx's
 * `real_ip_recursive` and Express's `trust proxy` take it). `undefined` if what stands at that
 * hop is not an IP address.
 */
function forwardedClient(
  value: string,
  isTrustedProxy: (ip: IpBytes) => boolean,
): IpBytes | undefined {
  let client: IpBytes | undefined
  for (const entry of value.split(',').reverse()) {
    client = parseIp(entry.trim())
    if (!client || !isTrustedProxy(client)) break
  }
  return client
}

/** IPv4 as is; IPv6 as its /64, the block one subscriber or host is usually given. */
function keyOf(ip: IpBytes): string {
  if (ip.length === 4) return ip.join('.')
  const groups = [0, 2, 4, 6].map((i) => (((ip[i] ?? 0) << 8) | (ip[i + 1] ?? 0)).toString(16))
  return `${groups.join(':')}::/64`
}
