import { RelayError } from '../RelayError.js'

/** The answer when the relay's SMC budget allows no call within `waitMs`. */
export const budgetExhausted = (budgetPerMinute: number, waitMs: number): RelayError =>
  new RelayError(
    429,
    'ERR_BUDGET_EXHAUSTED',
    `The relay's SMC budget of ${budgetPerMinute} calls a minute is spent; retry later`,
    { headers: { 'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))) } },
  )
