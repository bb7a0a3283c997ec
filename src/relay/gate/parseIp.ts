/** An IP address as its bytes: 4 for IPv4, 16 for IPv6. */
export type IpBytes = readonly number[]

/** The longest text an IP address takes: six IPv6 groups of four digits, then an IPv4 address. */
const MAX_IP_LENGTH = 45

/** Four decimal bytes; a leading zero is refused, as some parsers read it as octal. */
const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/

const IPV6_GROUP = /^[0-9a-f]{1,4}$/i

/**
 * The bytes of an IPv4 address in dotted decimal (`203.0.113.7`) or of an IPv6 address in any of
 * its text forms (RFC 4291: `2001:db8::1`, `::ffff:203.0.113.7`); `undefined` for anything else,
 * ports, brackets, zone ids and host names included. An IPv4-mapped IPv6 address is its IPv4
 * address: a dual-stack socket reports IPv4 peers that way, and they must match IPv4 ranges and
 * count as the same client. Runtime-neutral, unlike `node:net`: the relay runs on edge runtimes.
 */
export function parseIp(text: string): IpBytes | undefined {
  if (text.length > MAX_IP_LENGTH) return undefined
  if (!text.includes(':')) return parseIpv4(text)
  const bytes = parseIpv6(text)
  const ipv4Mapped = bytes?.slice(0, 12).every((byte, i) => byte === (i < 10 ? 0 : 0xff))
  return ipv4Mapped ? bytes?.slice(12) : bytes
}

function parseIpv4(text: string): number[] | undefined {
  const bytes = IPV4.exec(text)?.slice(1).map(Number)
  return bytes?.every((byte) => byte <= 0xff) ? bytes : undefined
}

function parseIpv6(text: string): number[] | undefined {
  const [head = '', tail, ...more] = text.split('::')
  if (more.length) return undefined
  const compressed = tail !== undefined
  // An IPv4 address may only end the address: after `::` if there is one, else at the end.
  const left = groupsOf(head, !compressed)
  const right = compressed ? groupsOf(tail, true) : []
  if (!left || !right) return undefined
  const zeros = 8 - left.length - right.length
  if (compressed ? zeros < 1 : zeros !== 0) return undefined
  return [...left, ...Array<number>(zeros).fill(0), ...right].flatMap((group) => [
    group >> 8,
    group & 0xff,
  ])
}

/** The 16-bit groups of `a:b:c`, its last part possibly an IPv4 address (two groups). */
function groupsOf(text: string, ipv4Last: boolean): number[] | undefined {
  if (text === '') return []
  const parts = text.split(':')
  const groups: number[] = []
  for (const [i, part] of parts.entries()) {
    if (IPV6_GROUP.test(part)) {
      groups.push(parseInt(part, 16))
      continue
    }
    const ipv4 = ipv4Last && i === parts.length - 1 ? parseIpv4(part) : undefined
    if (!ipv4) return undefined
    const [a = 0, b = 0, c = 0, d = 0] = ipv4
    groups.push((a << 8) | b, (c << 8) | d)
  }
  return groups
}
