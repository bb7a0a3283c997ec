// The relay's authorization (docs/relay.md#authorization): only allowed segments, on their fixed
// match key, REMOVE only where enabled, and with signed identity each change bound to the one
// visitor its token was minted for. Tokens are minted with docs/relay.md's own snippet, so the
// documented way to mint them cannot drift from what the relay accepts.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { beforeEach, describe, test } from 'node:test'
import { assertRefused, COLUMNS, ORGANIZATION, useHarness } from './harness.mjs'

/** The base64url alphabet, in the order of the values its characters stand for. */
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

const h = useHarness()

const DOCS = readFileSync(new URL('../../docs/relay.md', import.meta.url), 'utf8')
const MARKER = '<!-- identity-token:'

/** The fenced JavaScript block right after the marker, imported as a module. */
async function documentedMinter() {
  const at = DOCS.indexOf(MARKER)
  assert.ok(at >= 0, `docs/relay.md has no ${MARKER} marker`)
  const code = /```js\n([\s\S]*?)\n```/.exec(DOCS.slice(at))?.[1]
  assert.ok(code, 'a js block follows the marker')
  return import(`data:text/javascript,${encodeURIComponent(code)}`)
}

const SECRET = 'identity-secret-0123456789abcdef-current'
const OLD_SECRET = 'identity-secret-0123456789abcdef-previous'
const JANE = 'jane@example.com'
const LIST_PATH = `/organizations/${ORGANIZATION}/lists/USERS_SEGMENT/segments`
const add = (segment, query = 'keyFields=MAIL&fields=MAIL') =>
  `${LIST_PATH}/${segment}/data/load?${query}`
const remove = (segment, query = 'keyFields=MAIL&fields=MAIL') =>
  `${LIST_PATH}/${segment}/data?${query}`

/** Members of a segment in the simulator, by MAIL. */
const members = (segment) =>
  h.sim.state().lists.USERS_SEGMENT.segments[segment].map((member) => member.fields.MAIL)

/** Asserts the last log lines hold a warn-level `rejected` with `code`, and nothing at error level. */
function assertRejectedQuietly(code) {
  assert.ok(
    h.logs.some((e) => e.event === 'rejected' && e.level === 'warn' && e.code === code),
    JSON.stringify(h.logs),
  )
  assert.deepEqual(
    h.logs.filter((e) => e.level === 'error'),
    [],
  )
}

beforeEach(() => {
  h.logs.length = 0
})

describe('relay authorization: allowed segments on a fixed match key', () => {
  const relay = () =>
    h.makeRelay({ segments: ['USERS_SEGMENT/Newsletter:MAIL', 'USERS_SEGMENT/VIP:MAIL:remove'] })

  test('a segment not allowed is refused at the gate, whether SMC has it or not', async () => {
    const via = relay()
    for (const segment of ['SegmentToSMCStatic', 'MadeUp']) {
      const answer = await h.send(add(segment), { body: [[JANE]], via })
      assertRefused(answer, 403, 'ERR_SEGMENT_NOT_ALLOWED')
    }
    assert.equal(h.sim.calls, 0)
    assertRejectedQuietly('ERR_SEGMENT_NOT_ALLOWED')
  })

  test('another match key than the configured one is refused', async () => {
    const via = relay()
    for (const query of ['keyFields=ID&fields=ID', 'keyFields=NAME&fields=NAME']) {
      const answer = await h.send(add('Newsletter', query), { body: [['1']], via })
      assertRefused(answer, 400, 'ERR_QUERY_PARAMETER')
    }
    assert.equal(h.sim.calls, 0)
  })

  test('REMOVE is refused unless allowed for the segment, and goes through where it is', async () => {
    const via = relay()
    assert.equal((await h.send(add('Newsletter'), { body: [[JANE]], via })).status, 200)
    const refused = await h.send(remove('Newsletter'), { method: 'DELETE', body: [[JANE]], via })
    assertRefused(refused, 403, 'ERR_SEGMENT_NOT_ALLOWED')
    assert.deepEqual(members('Newsletter'), [JANE])
    assert.equal(h.sim.calls, 1)
    assertRejectedQuietly('ERR_SEGMENT_NOT_ALLOWED')
    const enabled = h.makeRelay({ segments: ['USERS_SEGMENT/Newsletter:MAIL:remove'] })
    const answer = await h.send(remove('Newsletter'), {
      method: 'DELETE',
      body: [[JANE]],
      via: enabled,
    })
    assert.equal(answer.status, 200, answer.text)
    assert.deepEqual(members('Newsletter'), [])
  })
})

describe('relay authorization: signed identity', () => {
  let identityToken
  beforeEach(async () => {
    ;({ identityToken } = await documentedMinter())
  })
  const relay = (options = {}) =>
    h.makeRelay({
      segments: ['USERS_SEGMENT/Newsletter:MAIL:remove'],
      identitySecrets: [SECRET, OLD_SECRET],
      ...options,
    })
  const withToken = (path, token) => `${path}&identityToken=${encodeURIComponent(token)}`

  test('a token for the rows key value is accepted, and never reaches SMC', async () => {
    const via = relay()
    const token = identityToken(SECRET, JANE)
    const added = await h.send(withToken(add('Newsletter'), token), { body: [[JANE], [JANE]], via })
    assert.equal(added.status, 200, added.text)
    const removed = await h.send(withToken(remove('Newsletter'), token), {
      method: 'DELETE',
      body: [[JANE]],
      via,
    })
    assert.equal(removed.status, 200, removed.text)
    const queries = h.sim.state().log.map((call) => call.query)
    assert.deepEqual(queries, ['keyFields=MAIL&fields=MAIL', 'keyFields=MAIL&fields=MAIL'])
    // A segment change parameter only.
    const events = `/organizations/${ORGANIZATION}/lists/segment_events/data/load?keyFields=EVENT_ID&fields=EVENT_ID&identityToken=${token}`
    const refused = await h.send(events, {
      body: [['m-1']],
      via: relay({ columns: Object.fromEntries(COLUMNS_DROPPED) }),
    })
    assertRefused(refused, 400, 'ERR_QUERY_PARAMETER')
    assert.equal(h.sim.calls, 2)
  })

  test('a token signed with an older secret is still accepted while it is listed', async () => {
    const answer = await h.send(withToken(add('Newsletter'), identityToken(OLD_SECRET, JANE)), {
      body: [[JANE]],
      via: relay(),
    })
    assert.equal(answer.status, 200, answer.text)
    assert.deepEqual(members('Newsletter'), [JANE])
  })

  /** [name, token, rows, error code] */
  const REFUSED = [
    ['missing', undefined, [[JANE]], 'ERR_IDENTITY_REQUIRED'],
    ['expired', () => identityToken(SECRET, JANE, -120), [[JANE]], 'ERR_IDENTITY_EXPIRED'],
    [
      'for another subject',
      () => identityToken(SECRET, 'mallory@example.com'),
      [[JANE]],
      'ERR_IDENTITY_MISMATCH',
    ],
    [
      'for one of the rows only',
      () => identityToken(SECRET, JANE),
      [[JANE], ['john@example.com']],
      'ERR_IDENTITY_MISMATCH',
    ],
    [
      'signed with a secret the relay does not hold',
      () => identityToken('some-other-secret-0123456789abcdef', JANE),
      [[JANE]],
      'ERR_IDENTITY_MISMATCH',
    ],
    [
      'with its expiry moved later',
      () => {
        const [version, expiry, signature] = identityToken(SECRET, JANE).split('.')
        return [version, Number(expiry) + 3600, signature].join('.')
      },
      [[JANE]],
      'ERR_IDENTITY_MISMATCH',
    ],
    [
      'with the first character of its signature changed',
      () => {
        const [version, expiry, signature] = identityToken(SECRET, JANE).split('.')
        const first = BASE64URL[(BASE64URL.indexOf(signature[0]) + 1) % 64]
        return [version, expiry, `${first}${signature.slice(1)}`].join('.')
      },
      [[JANE]],
      'ERR_IDENTITY_MISMATCH',
    ],
    [
      // 256 bits in 43 characters: the last one carries 4 bits of the signature and 2 unused ones,
      // which a comparison of the decoded bytes would not see.
      'with only the unused bits of its last character changed',
      () => {
        const token = identityToken(SECRET, JANE)
        const last = BASE64URL[BASE64URL.indexOf(token.at(-1)) ^ 1]
        return `${token.slice(0, -1)}${last}`
      },
      [[JANE]],
      'ERR_IDENTITY_MISMATCH',
    ],
    [
      'valid for longer than the relay accepts',
      () => identityToken(SECRET, JANE, 7 * 86_400),
      [[JANE]],
      'ERR_IDENTITY_INVALID',
    ],
    ['not a token', () => 'eyJhbGciOiJub25lIn0.e30.', [[JANE]], 'ERR_IDENTITY_INVALID'],
  ]
  for (const [name, token, rows, code] of REFUSED) {
    test(`a token ${name}: 403, nothing forwarded, no error logged`, async () => {
      const path = token ? withToken(add('Newsletter'), token()) : add('Newsletter')
      const answer = await h.send(path, { body: rows, via: relay() })
      assertRefused(answer, 403, code)
      assert.equal(h.sim.calls, 0)
      assert.deepEqual(members('Newsletter'), [])
      assertRejectedQuietly(code)
    })
  }

  test('a small clock skew is allowed', async () => {
    const answer = await h.send(withToken(add('Newsletter'), identityToken(SECRET, JANE, -30)), {
      body: [[JANE]],
      via: relay(),
    })
    assert.equal(answer.status, 200, answer.text)
  })

  test('the secrets are redacted like the SMC credentials, even where put by mistake', () => {
    assert.throws(
      () => relay({ eventsList: `${OLD_SECRET}!` }),
      (error) => !error.message.includes(OLD_SECRET) && /\[redacted\]/.test(error.message),
    )
  })
})

/** Every event column but EVENT_ID dropped, so a one-cell row is a whole event row. */
const COLUMNS_DROPPED = COLUMNS.filter((column) => column !== 'EVENT_ID').map((column) => [
  column,
  null,
])
