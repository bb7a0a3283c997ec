import { parseIp, type IpBytes } from './parseIp.js'

/** Matches IP addresses against a list of addresses and CIDR ranges. */
export interface IpMatcher {
  /** Whether `ip` is one of the addresses or in one of the ranges. */
  matches(ip: IpBytes): boolean
  /** The entries that are neither an address nor a range, as given. */
  readonly invalid: readonly unknown[]
}

/** A CIDR range; a single address is one with every bit fixed. */
interface IpRange {
  /** The range's first address, or any address in it. */
  readonly bytes: IpBytes
  /** How many leading bits an address must share with `bytes`. */
  readonly prefixLength: number
}

/**
 * A matcher of addresses (`10.0.0.1`, `2001:db8::1`) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`),
 * IPv4 and IPv6. IPv4 entries also match IPv4-mapped IPv6 addresses ({@link parseIp} makes them
 * IPv4), as do entries written mapped (`::ffff:10.0.0.0/104`). Bits past a range's prefix are
 * ignored: `10.1.2.3/8` is `10.0.0.0/8`.
 */
export function ipMatcher(entries: readonly unknown[]): IpMatcher {
  const ranges: IpRange[] = []
  const invalid: unknown[] = []
  for (const entry of entries) {
    const range = typeof entry === 'string' ? parseRange(entry) : undefined
    if (range) ranges.push(range)
    else invalid.push(entry)
  }
  return { matches: (ip) => ranges.some((range) => contains(range, ip)), invalid }
}

function parseRange(entry: string): IpRange | undefined {
  const [address = '', prefix, ...more] = entry.split('/')
  const bytes = parseIp(address)
  if (!bytes || more.length) return undefined
  const bits = bytes.length * 8
  if (prefix === undefined) return { bytes, prefixLength: bits }
  if (!/^\d{1,3}$/.test(prefix)) return undefined
  // A mapped range counts IPv6 bits, of which the IPv4 address parseIp made is the last 32.
  const prefixLength = Number(prefix) - (address.includes(':') && bits === 32 ? 96 : 0)
  return prefixLength >= 0 && prefixLength <= bits ? { bytes, prefixLength } : undefined
}

function contains(range: IpRange, ip: IpBytes): boolean {
  if (ip.length !== range.bytes.length) return false
  for (let bit = 0; bit < range.prefixLength; bit += 8) {
    const mask = (0xff << Math.max(0, 8 - (range.prefixLength - bit))) & 0xff
    if (((ip[bit / 8] ?? 0) ^ (range.bytes[bit / 8] ?? 0)) & mask) return false
  }
  return true
}
