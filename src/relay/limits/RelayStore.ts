/**
 * Where relay instances share their SMC budget, SMC's pause and the per-client counts: a Redis,
 * or anything that runs Redis Lua scripts atomically. `startRelayServer` and the CLI make one
 * from `redisUrl`; on an edge runtime, pass an HTTP Redis client's `eval`
 * (docs/relay-scale-out.md, "Edge runtimes").
 */
export interface RelayStore {
  /**
   * Runs `script` atomically with these keys and arguments, as Redis `EVAL` does, and resolves
   * with its reply (an array reply as an array of integers); rejects when the store cannot.
   */
  eval(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown>
}
