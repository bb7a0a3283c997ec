// Lua run by the shared store (a Redis, or anything running its scripts atomically): each runs
// whole, so instances never interleave their reads and writes of one key. The hash fields keep
// their short names (`tokens`, `at`, `paused`, `born`, `spare`; `n`, `cost`): instances of two versions share one
// store while a deploy rolls.

/**
 * One SMC budget per API key, in a Redis hash: a token bucket of `bucketShape` on Redis's
 * clock, taken ahead of time as `TokenBucket` is. `spare` counts the calls the budget allowed
 * that nobody took through the store (refill lost to a full bucket), and `born` when the hash was
 * made. ARGV: burst, refill per ms, the calls this instance made without the store since it last
 * answered (-1: it answered last time), `born` and `spare` as that last answer gave them, SMC's
 * pause in ms (0: take a call), and how long the caller can wait for its call. An instance back
 * from its fallback moves what the bucket holds into `spare`, as its fallback started empty: the
 * fallbacks may have spent it. Its own calls are paid from what was spare since it left, so that
 * instances that kept to their shares while all were cut off pay nothing; only the rest, spent
 * beyond the budget by an instance cut off alone while the others used it, goes into the red, up
 * to a burst. A hash made since it left (a restarted Redis, or one idle for two minutes) was
 * spent by nobody but the fallbacks. Replies the ms to wait, 1 if taken, the whole calls left,
 * `born` and `spare`.
 */
export const BUDGET_SCRIPT = `
local time = redis.call('TIME')
local now = time[1] * 1000 + math.floor(time[2] / 1000)
local burst = tonumber(ARGV[1])
local refillPerMs = tonumber(ARGV[2])
local owed = tonumber(ARGV[3])
local bornSeen = tonumber(ARGV[4])
local spareSeen = tonumber(ARGV[5])
local pauseMs = tonumber(ARGV[6])
local maxWaitMs = tonumber(ARGV[7])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'paused', 'born', 'spare')
local storedTokens = tonumber(state[1]) or burst
local storedAt = tonumber(state[2]) or now
local born = tonumber(state[4]) or now
local spare = tonumber(state[5]) or 0
local refilled = storedTokens + (now - storedAt) * refillPerMs
local tokens = math.min(burst, refilled)
spare = spare + refilled - tokens
if owed >= 0 then
  spare = spare + math.max(tokens, 0)
  tokens = math.min(tokens, 0)
  local spareSince = spare - spareSeen
  if born ~= bornSeen then
    spareSince = owed
  end
  local paid = math.min(owed, math.max(spareSince, 0))
  spare = spare - paid
  tokens = tokens - math.min(owed - paid, burst)
end
local pausedUntil = math.max(tonumber(state[3]) or 0, now + pauseMs)
local waitMs = math.max(pausedUntil - now, 0)
local taken = 0
if pauseMs > 0 then
  tokens = math.min(tokens, 0)
else
  if tokens < 1 then
    waitMs = math.max(waitMs, math.ceil((1 - tokens) / refillPerMs))
  end
  if waitMs <= maxWaitMs then
    tokens = tokens - 1
    taken = 1
  end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now), 'paused', tostring(pausedUntil), 'born', tostring(born), 'spare', tostring(spare))
redis.call('PEXPIRE', KEYS[1], pausedUntil - now + 120000)
return {waitMs, taken, math.floor(math.max(tokens, 0)), born, math.floor(spare)}
`

/**
 * A client's requests (ARGV[2] more) and thousandths of SMC calls (ARGV[3] more) in the current
 * one-minute window of ARGV[1] ms: replies the requests, the window's milliseconds left, and the
 * thousandths of calls.
 */
export const CLIENT_SCRIPT = `
local windowMs = ARGV[1]
local requests = redis.call('HINCRBY', KEYS[1], 'n', ARGV[2])
local milliCalls = redis.call('HINCRBY', KEYS[1], 'cost', ARGV[3])
local leftMs = redis.call('PTTL', KEYS[1])
if leftMs < 0 then
  redis.call('PEXPIRE', KEYS[1], windowMs)
  leftMs = tonumber(windowMs)
end
return {requests, leftMs, milliCalls}
`
