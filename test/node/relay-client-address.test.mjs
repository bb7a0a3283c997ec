// Which client a request counts as for the per-client limit: the peer, or the client a trusted
// proxy names; never an address a client wrote itself, and never a key of a client's making.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { eventRow, useHarness } from './harness.mjs'
import { importSource } from './importSource.mjs'

const { parseIp, ipMatcher, clientKey } = await importSource(`
  export { parseIp } from './src/relay/gate/parseIp.ts'
  export { ipMatcher } from './src/relay/gate/ipMatcher.ts'
  export { clientKey } from './src/relay/gate/clientKey.ts'
`)

describe('parseIp', () => {
  test('reads IPv4 and every IPv6 text form; an IPv4-mapped address is its IPv4 address', () => {
    const cases = {
      '203.0.113.7': [203, 0, 113, 7],
      '0.0.0.0': [0, 0, 0, 0],
      '::': Array(16).fill(0),
      '::1': [...Array(15).fill(0), 1],
      '2001:DB8::a:1': [0x20, 0x01, 0x0d, 0xb8, ...Array(8).fill(0), 0, 0x0a, 0, 1],
      '1:2:3:4:5:6:7::': [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0],
      '1:2:3:4:5:6:1.2.3.4': [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4],
      '::ffff:127.0.0.1': [127, 0, 0, 1],
      '::FFFF:7f00:1': [127, 0, 0, 1],
    }
    for (const [text, bytes] of Object.entries(cases)) assert.deepEqual(parseIp(text), bytes, text)
  })

  test('refuses anything else: ports, brackets, zones, names, octal-looking and oversized text', () => {
    for (const text of [
      '',
      'unknown',
      'localhost',
      ' 1.2.3.4',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4',
      '1.2.3.4:8080',
      '[::1]',
      '[::1]:443',
      'fe80::1%eth0',
      '1::2::3',
      ':1',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7:8::',
      '1.2.3.4::',
      '::12345',
      '::ffff:1.2.3.4.5',
      `1.2.3.4${' '.repeat(3000)}`,
      '1'.repeat(3056),
    ]) {
      assert.equal(parseIp(text), undefined, JSON.stringify(text))
    }
  })
})

describe('ipMatcher', () => {
  const matcher = ipMatcher(['10.0.0.0/8', '192.0.2.1', 'fd00::/8', '2001:db8:1::/48'])
  const matches = (text) => matcher.matches(parseIp(text))

  test('matches addresses and CIDR ranges of both families, IPv4-mapped peers included', () => {
    for (const yes of [
      '10.255.0.1',
      '192.0.2.1',
      '::ffff:192.0.2.1',
      'fd12::1',
      '2001:db8:1:ff::9',
    ])
      assert.ok(matches(yes), yes)
    for (const no of [
      '11.0.0.1',
      '192.0.2.2',
      'fe00::1',
      '2001:db8:2::1',
      '::ffff:c000:202',
      '::1',
    ])
      assert.ok(!matches(no), no)
    assert.deepEqual(matcher.invalid, [])
  })

  test('a range is as wide as its prefix, in whichever bits it is written', () => {
    assert.ok(ipMatcher(['0.0.0.0/0']).matches(parseIp('198.51.100.7')))
    assert.ok(!ipMatcher(['0.0.0.0/0']).matches(parseIp('2001:db8::1')))
    assert.ok(ipMatcher(['::/0']).matches(parseIp('2001:db8::1')))
    assert.ok(ipMatcher(['10.1.2.3/8']).matches(parseIp('10.9.9.9')))
    assert.ok(ipMatcher(['172.16.0.0/12']).matches(parseIp('172.31.255.255')))
    assert.ok(!ipMatcher(['172.16.0.0/12']).matches(parseIp('172.32.0.0')))
    assert.ok(ipMatcher(['::ffff:10.0.0.0/104']).matches(parseIp('10.200.0.1')))
  })

  test('lists the entries that are neither an address nor a range', () => {
    const entries = [
      '10.0.0.1',
      'proxy.internal',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/x',
      '::ffff:0:0/80',
      '1/2/3',
      7,
    ]
    assert.deepEqual(ipMatcher(entries).invalid, entries.slice(1))
  })
})

describe('clientKey', () => {
  const behind = (header, trusted = ['10.0.0.0/8', 'fd00::/8']) => ({
    clientAddressHeader: header,
    isTrustedProxy: ipMatcher(trusted).matches,
  })
  const keyOf = (peer, value, config = behind('x-forwarded-for')) =>
    clientKey(
      new Headers(value === undefined ? {} : { [config.clientAddressHeader]: value }),
      peer,
      config,
    )

  test('without a header, the peer counts: IPv4 as is, IPv6 by its /64, mapped IPv4 as IPv4', () => {
    const none = { clientAddressHeader: undefined, isTrustedProxy: () => false }
    assert.equal(keyOf('198.51.100.7', undefined, none), '198.51.100.7')
    assert.equal(keyOf('::ffff:198.51.100.7', undefined, none), '198.51.100.7')
    assert.equal(keyOf('2001:db8:1:2:aaaa::1', undefined, none), '2001:db8:1:2::/64')
    assert.equal(keyOf('2001:db8:1:2:ffff:ffff:ffff:ffff', undefined, none), '2001:db8:1:2::/64')
    assert.equal(keyOf(undefined, undefined, none), 'unknown')
    assert.equal(keyOf('not an address', undefined, none), 'unknown')
  })

  test('the header of a peer that is no trusted proxy is ignored', () => {
    assert.equal(keyOf('198.51.100.7', '203.0.113.1'), '198.51.100.7')
    assert.equal(keyOf('::ffff:198.51.100.7', '203.0.113.1'), '198.51.100.7')
  })

  test('X-Forwarded-For is read from the right, past the trusted proxies', () => {
    assert.equal(keyOf('10.0.0.1', '203.0.113.1'), '203.0.113.1')
    assert.equal(keyOf('::ffff:10.0.0.1', '203.0.113.1'), '203.0.113.1')
    assert.equal(keyOf('10.0.0.1', '1.1.1.1, 2.2.2.2, 203.0.113.1, 10.0.0.7'), '203.0.113.1')
    assert.equal(keyOf('fd00::1', '2001:db8:5:6::1,fd00::2'), '2001:db8:5:6::/64')
    // Every hop trusted: the leftmost, the client nearest the first proxy.
    assert.equal(keyOf('10.0.0.1', '10.1.1.1, 10.0.0.7'), '10.1.1.1')
  })

  test('what is not an IP address at the trusted hop names nobody: the peer counts', () => {
    assert.equal(keyOf('10.0.0.1', ''), '10.0.0.1')
    assert.equal(keyOf('10.0.0.1', 'unknown'), '10.0.0.1')
    assert.equal(keyOf('10.0.0.1', '203.0.113.1:5555'), '10.0.0.1')
    assert.equal(keyOf('10.0.0.1', '203.0.113.1, garbage, 10.0.0.7'), '10.0.0.1')
    assert.equal(keyOf('10.0.0.1', 'x'.repeat(3056)), '10.0.0.1')
  })

  test('any other header holds one address, taken as it is', () => {
    const realIp = behind('x-real-ip')
    assert.equal(keyOf('10.0.0.1', ' 203.0.113.1 ', realIp), '203.0.113.1')
    assert.equal(keyOf('10.0.0.1', '203.0.113.1, 203.0.113.2', realIp), '10.0.0.1')
    assert.equal(keyOf('10.0.0.1', '2001:db8:1:2::77', realIp), '2001:db8:1:2::/64')
  })
})

describe('the per-client limit of a relay behind a proxy', () => {
  const h = useHarness()
  const PROXY = '10.0.0.1'
  /** A relay behind a proxy at PROXY, allowing 3 requests a minute per client. */
  const relayBehindProxy = (options = {}) =>
    h.makeRelay({
      rateLimitPerClient: 3,
      clientAddressHeader: 'X-Forwarded-For',
      trustedProxies: [PROXY],
      ...options,
    })
  /** The statuses of one request per X-Forwarded-For value, sent in turn from `peer`. */
  const rotating = async (relay, peer, values) => {
    const statuses = []
    for (const [i, value] of values.entries()) {
      const sent = await h.sendEvents([eventRow(`r-${i}`)], {
        via: relay,
        client: { address: peer },
        headers: { 'X-Forwarded-For': value },
      })
      statuses.push(sent.status)
    }
    return statuses
  }
  const forged = ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4', '5.5.5.5', '6.6.6.6']

  test('a client reaching the relay itself cannot name itself in X-Forwarded-For', async () => {
    const statuses = await rotating(relayBehindProxy(), '198.51.100.7', forged)
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429])
  })

  test('through the proxy, what the client wrote before its own address does not count', async () => {
    const values = forged.map((value) => `${value}, 198.51.100.7`)
    const statuses = await rotating(relayBehindProxy(), PROXY, values)
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429])
  })

  test('an IPv6 client is one client across its /64', async () => {
    const values = forged.map((_, i) => `2001:db8:77:1::${i + 1}`)
    const statuses = await rotating(relayBehindProxy(), PROXY, values)
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429])
    assert.deepEqual(await rotating(relayBehindProxy(), PROXY, ['2001:db8:77:2::1']), [200])
  })

  test('the shared store counts short keys only, whatever the header holds', async () => {
    const keys = []
    const store = {
      // A client's count and window; for the budget, a call taken.
      async eval(_script, [key]) {
        keys.push(key)
        return key.includes(':client:') ? [1, 60_000] : [0, 1, 100]
      },
    }
    const relay = relayBehindProxy({ store, rateLimitPerClient: 600 })
    await rotating(relay, PROXY, ['9'.repeat(3056), `${'1.2.3.4,'.repeat(400)}garbage`])
    await rotating(relay, '198.51.100.7', ['x'.repeat(3056)])
    const clientKeys = keys.filter((key) => key.includes(':client:'))
    const counted = clientKeys
      .map((key) => key.slice(key.indexOf(':client:') + ':client:'.length))
      .map((key) => (key.length > 64 ? `${key.length} characters` : key))
    assert.deepEqual(counted, [PROXY, PROXY, '198.51.100.7'])
  })
})
