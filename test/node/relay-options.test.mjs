// Options are validated once, with one error naming every problem, option and value.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  createRelay,
  ENV_NAMES,
  RelayConfigError,
  relayOptionsFromEnv,
  startRelayServer,
} from '../../dist/relay.js'

const VALID = {
  smcAdminUrl: 'https://acme.slgnt.eu',
  organization: 'acme',
  apiKey: 'k',
  apiSecret: 's',
}

const problemsOf = (options) => {
  try {
    createRelay(options)
  } catch (error) {
    assert.ok(error instanceof RelayConfigError)
    assert.equal(error.name, 'RelayConfigError')
    return error.problems
  }
  assert.fail('createRelay accepted the options')
}

describe('relay options', () => {
  test('valid options make a relay; loopback http is allowed', () => {
    assert.equal(typeof createRelay(VALID), 'function')
    assert.equal(typeof createRelay({ ...VALID, smcAdminUrl: 'http://127.0.0.1:8788' }), 'function')
  })

  test('missing required options are each named', () => {
    const problems = problemsOf({})
    for (const name of ['smcAdminUrl', 'organization', 'apiKey', 'apiSecret']) {
      assert.ok(
        problems.some((p) => p.startsWith(`${name} (${ENV_NAMES[name]}) is required`)),
        name,
      )
    }
  })

  test('bad values are named with the option and the value', () => {
    const problems = problemsOf({
      ...VALID,
      smcAdminUrl: 'http://acme.slgnt.eu/Portal/Api',
      eventsList: 'bad list',
      segments: ['USERS/ok:MAIL', 'no/slash/x:MAIL', 'USERS/other:ID', 'USERS/ok:MAIL:add'],
      identitySecrets: ['too-short'],
      identityMaxLifetimeS: 0,
      clientBudgetPercent: 101,
      allowedOrigins: ['https://shop.example/path'],
      columns: { EVENT_ID: null, NOPE: 'X', CONTEXT: 'bad name' },
      budgetPerMinute: 0,
      coalesceWindowMs: -1,
      maxRows: 1.5,
      rateLimitPerClient: '10',
      clientAddressHeader: 'x forwarded',
      trustedProxies: ['127.0.0.1'],
    })
    const expect = [
      /smcAdminUrl \(SMC_ADMIN_URL\) must use https .*"http:\/\/acme.slgnt.eu\/Portal\/Api"/,
      /smcAdminUrl \(SMC_ADMIN_URL\) must be the admin URL without a path/,
      /eventsList \(SMC_EVENTS_LIST\) must be an SMC api name.*"bad list"/,
      /segments \(SMC_SEGMENTS\) must hold LIST\/SEGMENT:MATCH_KEY entries .*; got "no\/slash\/x:MAIL"/,
      /segments \(SMC_SEGMENTS\) must match every segment of list USERS on one field; got MAIL and ID/,
      /segments \(SMC_SEGMENTS\) must hold .*; got "USERS\/ok:MAIL:add"/,
      /identitySecrets \(RELAY_IDENTITY_SECRETS\) must hold secrets of 32 characters at least; secret 1 is not/,
      /identityMaxLifetimeS \(RELAY_IDENTITY_MAX_LIFETIME_S\) must be a whole number of at least 1; got 0/,
      /clientBudgetPercent \(RELAY_CLIENT_BUDGET_PERCENT\) must be a percentage from 0 to 100; got 101/,
      /allowedOrigins \(RELAY_ALLOWED_ORIGINS\) must hold origins.*"https:\/\/shop.example\/path"/,
      /columns \(SMC_EVENTS_COLUMNS\)\.NOPE must be one of EVENT_ID,EVENT_TYPE,/,
      /columns \(SMC_EVENTS_COLUMNS\)\.EVENT_ID must be an SMC field name used once \(it cannot be dropped\); got null/,
      /columns \(SMC_EVENTS_COLUMNS\)\.CONTEXT must be an SMC field name used once, or null; got "bad name"/,
      /budgetPerMinute \(RELAY_BUDGET_PER_MINUTE\) must be a whole number of at least 1; got 0/,
      /coalesceWindowMs \(RELAY_COALESCE_WINDOW_MS\) .* got -1/,
      /maxRows \(RELAY_MAX_ROWS\) .* got 1.5/,
      /rateLimitPerClient \(RELAY_RATE_LIMIT_PER_CLIENT\) .* got "10"/,
      /clientAddressHeader \(RELAY_CLIENT_ADDRESS_HEADER\) must be a header name/,
    ]
    for (const pattern of expect)
      assert.ok(
        problems.some((p) => pattern.test(p)),
        `${pattern} in\n${problems.join('\n')}`,
      )
    assert.equal(problems.length, expect.length, problems.join('\n'))
  })

  test('a client address header is believed only from trusted proxies, which must be addresses or CIDR ranges', () => {
    assert.equal(
      typeof createRelay({
        ...VALID,
        clientAddressHeader: 'x-forwarded-for',
        trustedProxies: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::ffff:192.168.0.0/112'],
      }),
      'function',
    )
    assert.deepEqual(problemsOf({ ...VALID, clientAddressHeader: 'x-forwarded-for' }), [
      'clientAddressHeader (RELAY_CLIENT_ADDRESS_HEADER) is believed only from trustedProxies (RELAY_TRUSTED_PROXIES), which names none: list the proxies that set x-forwarded-for (0.0.0.0/0,::/0 trusts every peer)',
    ])
    assert.deepEqual(problemsOf({ ...VALID, trustedProxies: ['127.0.0.1'] }), [
      'trustedProxies (RELAY_TRUSTED_PROXIES) is of no use without clientAddressHeader (RELAY_CLIENT_ADDRESS_HEADER): name the header they set the client address in',
    ])
    const bad = ['proxy.internal', '10.0.0.0/33', '10.0.0.1:80', '[::1]']
    assert.deepEqual(
      problemsOf({ ...VALID, clientAddressHeader: 'x-real-ip', trustedProxies: ['::1', ...bad] }),
      bad.map(
        (entry) =>
          `trustedProxies (RELAY_TRUSTED_PROXIES) must hold IP addresses or CIDR ranges like 10.0.0.0/8 or fd00::/8; got ${JSON.stringify(entry)}`,
      ),
    )
  })

  test('an origin pattern with one wildcard label allows exactly one label in its place', async () => {
    const relay = createRelay({
      ...VALID,
      allowedOrigins: ['https://*.shop.example', 'http://*.shop.example:8080'],
      fetch: async () => new Response('{}', { status: 500 }),
    })
    const cors = async (origin) => {
      const response = await relay(
        new Request('http://relay.test/organizations/acme/lists/segment_events/data/load', {
          method: 'OPTIONS',
          headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
        }),
      )
      return [response.status, response.headers.get('access-control-allow-origin')]
    }
    for (const origin of [
      'https://www.shop.example',
      'https://eu-1.shop.example',
      'http://www.shop.example:8080',
    ]) {
      assert.deepEqual(await cors(origin), [204, origin])
    }
    for (const origin of [
      'https://shop.example',
      'https://a.b.shop.example',
      'http://www.shop.example',
      'https://www.shop.example:8443',
      'https://www.shop.example.evil',
      'https://wwwshop.example',
      'https://evil.example/.shop.example',
    ]) {
      assert.deepEqual(await cors(origin), [403, null], origin)
    }
  })

  test('more instances than SMC calls a minute are refused: their shares would pass the budget', () => {
    assert.deepEqual(problemsOf({ ...VALID, budgetPerMinute: 2, instances: 3 }), [
      'instances (RELAY_INSTANCES) must be at most budgetPerMinute (2); got 3',
    ])
    assert.doesNotThrow(() => createRelay({ ...VALID, budgetPerMinute: 3, instances: 3 }))
  })

  test('any other wildcard is refused at start, naming the rule', () => {
    const bad = [
      '*',
      'https://*',
      'https://*.example',
      'https://w*.shop.example',
      'https://shop.*.example',
      'https://*.*.shop.example',
      '*.shop.example',
    ]
    const problems = problemsOf({ ...VALID, allowedOrigins: bad })
    assert.equal(problems.length, bad.length, problems.join('\n'))
    for (const [i, origin] of bad.entries()) {
      assert.match(problems[i], /^allowedOrigins \(RELAY_ALLOWED_ORIGINS\) /)
      assert.ok(problems[i].includes(JSON.stringify(origin)), problems[i])
    }
    assert.ok(problems.some((p) => /\* only as a whole first label/.test(p)))
  })

  test("a wildcard in front of a public suffix, ICANN's or a platform's, is refused naming why; exact origins there are allowed", () => {
    const bad = [
      ['https://*.github.io', 'github.io'],
      ['https://*.vercel.app', 'vercel.app'],
      ['https://*.co.uk', 'co.uk'],
      ['https://*.co.uk.', 'co.uk'],
      ['http://*.s3.amazonaws.com:8080', 's3.amazonaws.com'],
    ]
    const problems = problemsOf({ ...VALID, allowedOrigins: bad.map(([origin]) => origin) })
    assert.equal(problems.length, bad.length, problems.join('\n'))
    for (const [i, [origin, suffix]] of bad.entries()) {
      assert.ok(
        problems[i].startsWith(
          `allowedOrigins (RELAY_ALLOWED_ORIGINS) must not put * in front of ${suffix}, a public suffix: anyone can register a name under it`,
        ),
        problems[i],
      )
      assert.ok(problems[i].endsWith(`; got ${JSON.stringify(origin)}`), problems[i])
    }
    assert.doesNotThrow(() =>
      createRelay({
        ...VALID,
        allowedOrigins: [
          'https://me.github.io',
          'https://*.me.github.io',
          'https://shop.co.uk',
          'https://*.shop.co.uk',
        ],
      }),
    )
  })

  test("the server's bounds are validated with the relay's options, in one error", async () => {
    const error = await startRelayServer({
      ...VALID,
      maxSmcCalls: 0,
      maxConnections: 0,
      headerTimeoutMs: -1,
      drainTimeoutMs: '1s',
      port: 0,
    }).catch((e) => e)
    assert.ok(error instanceof RelayConfigError, String(error))
    assert.deepEqual(
      error.problems.map((p) => p.split(' must')[0]),
      [
        'maxSmcCalls (RELAY_MAX_SMC_CALLS)',
        'maxConnections (RELAY_MAX_CONNECTIONS)',
        'headerTimeoutMs (RELAY_HEADER_TIMEOUT_MS)',
        'drainTimeoutMs (RELAY_DRAIN_TIMEOUT_MS)',
      ],
    )
  })

  test('a Redis password that is not valid percent-encoding is still a secret, not a crash', async () => {
    const error = await startRelayServer({
      ...VALID,
      redisUrl: 'redis://:p%zzsecret@redis.internal:6379',
      maxSmcCalls: 0,
      port: 0,
    }).catch((e) => e)
    assert.ok(error instanceof RelayConfigError, String(error))
    assert.ok(!error.message.includes('p%zzsecret'), error.message)
  })

  test('plain redis:// beyond loopback is refused at start, naming rediss:// and the opt-in, never the password', async () => {
    /** The problems of the server's options besides a bad maxSmcCalls, so that none starts. */
    const problemsWith = async (options) => {
      const error = await startRelayServer({ ...VALID, maxSmcCalls: 0, port: 0, ...options }).catch(
        (e) => e,
      )
      assert.ok(error instanceof RelayConfigError, String(error))
      assert.ok(!error.message.includes('pw-Zk81qLm'), error.message)
      return error.problems.filter((p) => !p.startsWith('maxSmcCalls'))
    }
    assert.deepEqual(await problemsWith({ redisUrl: 'redis://:pw-Zk81qLm@Redis.Internal:6379' }), [
      'redisUrl (REDIS_URL) would send the Redis password and the shared limits to Redis.Internal in clear text: use rediss:// (TLS), or set redisAllowPlaintext (RELAY_REDIS_ALLOW_PLAINTEXT) to true if the network between them is trusted',
    ])
    assert.equal((await problemsWith({ redisUrl: 'redis://:pw-Zk81qLm@127.1:6379' })).length, 1)
    for (const redisUrl of [
      'redis://:pw-Zk81qLm@localhost:6379',
      'redis://:pw-Zk81qLm@LOCALHOST:6379',
      'redis://127.0.0.2:6379',
      'redis://[::1]:6379',
      'rediss://:pw-Zk81qLm@redis.internal:6380',
    ]) {
      assert.deepEqual(await problemsWith({ redisUrl }), [], redisUrl)
    }
    assert.deepEqual(
      await problemsWith({
        redisUrl: 'redis://:pw-Zk81qLm@redis.internal:6379',
        redisAllowPlaintext: true,
      }),
      [],
    )
    assert.deepEqual(await problemsWith({ redisAllowPlaintext: 'yes' }), [
      'redisAllowPlaintext (RELAY_REDIS_ALLOW_PLAINTEXT) must be true or false; got "yes"',
    ])
    const env = relayOptionsFromEnv({ RELAY_REDIS_ALLOW_PLAINTEXT: 'true' })
    assert.equal(env.options.redisAllowPlaintext, true)
  })

  test('the environment maps onto the same options', () => {
    const env = relayOptionsFromEnv({
      SMC_ADMIN_URL: 'https://acme.slgnt.eu',
      SMC_ORGANIZATION: 'acme',
      SMC_API_KEY: 'k',
      SMC_API_SECRET: 's',
      SMC_SEGMENTS: 'USERS/News:MAIL, USERS/VIP:MAIL:remove ,',
      RELAY_IDENTITY_SECRETS: 'a-secret-of-thirty-two-characters,an-older-secret-still-accepted-32',
      RELAY_IDENTITY_MAX_LIFETIME_S: '3600',
      RELAY_CLIENT_BUDGET_PERCENT: '5',
      RELAY_ALLOWED_ORIGINS: 'https://shop.example',
      SMC_EVENTS_COLUMNS: '{"CONTEXT":null}',
      RELAY_BUDGET_PER_MINUTE: '1000',
      RELAY_MAX_SMC_CALLS: '8',
      RELAY_MAX_BUFFERED_BYTES: '1000000',
      RELAY_BODY_TIMEOUT_MS: '2000',
      RELAY_LOG_INTERVAL_MS: '5000',
      RELAY_MAX_CONNECTIONS: '100',
      RELAY_HEADER_TIMEOUT_MS: '3000',
      RELAY_DRAIN_TIMEOUT_MS: '4000',
      RELAY_INSTANCES: '3',
      RELAY_MAX_COALESCE_WAIT_MS: '500',
      REDIS_URL: 'rediss://:pw@redis.internal:6380',
      RELAY_METRICS: 'true',
      RELAY_METRICS_TOKEN: 'scrape-me',
      RELAY_CLIENT_ADDRESS_HEADER: 'X-Forwarded-For',
      RELAY_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8,fd00::/8',
      PORT: '0',
    })
    assert.deepEqual(env.problems, [])
    assert.deepEqual(env.options.trustedProxies, ['127.0.0.1', '10.0.0.0/8', 'fd00::/8'])
    assert.deepEqual(
      [
        env.options.instances,
        env.options.maxCoalesceWaitMs,
        env.options.redisUrl,
        env.options.serveMetrics,
        env.options.metricsToken,
      ],
      [3, 500, 'rediss://:pw@redis.internal:6380', true, 'scrape-me'],
    )
    assert.deepEqual(
      [
        env.options.maxSmcCalls,
        env.options.maxBufferedBytes,
        env.options.bodyTimeoutMs,
        env.options.logIntervalMs,
        env.options.maxConnections,
        env.options.headerTimeoutMs,
        env.options.drainTimeoutMs,
      ],
      [8, 1_000_000, 2000, 5000, 100, 3000, 4000],
    )
    assert.deepEqual(env.options.segments, ['USERS/News:MAIL', 'USERS/VIP:MAIL:remove'])
    assert.deepEqual(env.options.identitySecrets, [
      'a-secret-of-thirty-two-characters',
      'an-older-secret-still-accepted-32',
    ])
    assert.deepEqual([env.options.identityMaxLifetimeS, env.options.clientBudgetPercent], [3600, 5])
    assert.deepEqual(env.options.columns, { CONTEXT: null })
    assert.equal(env.options.budgetPerMinute, 1000)
    assert.equal(env.options.coalesceWindowMs, undefined)
    assert.equal(env.port, 0)
    assert.equal(env.host, '127.0.0.1')
    assert.equal(typeof createRelay(env.options), 'function')
  })

  test('unparseable variables are named with their value', () => {
    const env = relayOptionsFromEnv({
      RELAY_MAX_ROWS: 'many',
      SMC_EVENTS_COLUMNS: '[1]',
      RELAY_METRICS: 'yes',
      PORT: '99999',
    })
    assert.deepEqual(env.problems, [
      'SMC_EVENTS_COLUMNS must be a JSON object like {"CONTEXT":null}; got "[1]"',
      'RELAY_MAX_ROWS must be a whole number; got "many"',
      'RELAY_METRICS must be true or false; got "yes"',
      'PORT must be at most 65535; got "99999"',
    ])
  })
})
