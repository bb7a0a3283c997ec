// Lua run by the shared store (a Redis, or anything running its scripts atomically): each runs
// whole, so instances never interleave their reads and writes of one key. The hash fields keep
// their short names (`tokens`, `at`, `paused`; `n`, `cost`): instances of two versions share one
// store while a deploy rolls.

/**
 * One SMC budget per API key, in a Redis hash: a token bucket of `bucketShape` on Redis's
 * clock, taken ahead of time as `TokenBucket` is. ARGV: burst, refill per ms, the calls this
 * instance made without the store since it last answered (-1: it answered last time), SMC's
 * pause in ms (0: take a call), and how long the caller can wait for its call. An instance back
 * from its fallback empties the bucket, as its fallback started empty: what refilled meanwhile
 * (or a restarted Redis's full bucket) was spent by the fallbacks; its own calls go further into
 * the red, up to a burst, so that an instance cut off alone while the others kept the budget
 * pays back what it spent. Replies the ms to wait, 1 if taken, and the whole calls left.
 */
export const BUDGET_SCRIPT = `
local time = redis.call('TIME')
local now = time[1] * 1000 + math.floor(time[2] / 1000)
local burst = tonumber(ARGV[1])
local refillPerMs = tonumber(ARGV[2])
local owed = tonumber(ARGV[3])
local pauseMs = tonumber(ARGV[4])
local maxWaitMs = tonumber(ARGV[5])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'paused')
local storedTokens = tonumber(state[1]) or burst
local storedAt = tonumber(state[2]) or now
local tokens = math.min(burst, storedTokens + (now - storedAt) * refillPerMs)
if owed >= 0 then
  tokens = math.min(tokens, 0) - math.min(owed, burst)
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
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now), 'paused', tostring(pausedUntil))
redis.call('PEXPIRE', KEYS[1], pausedUntil - now + 120000)
return {waitMs, taken, math.floor(math.max(tokens, 0))}
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
