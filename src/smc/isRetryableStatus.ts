/**
 * Whether an HTTP status says nothing of the rows sent, so they must be sent again later: no
 * answer at all (0), a timeout (408), a rate limit (429) or a server error (5xx). Every other
 * answer is SMC's word on the rows.
 */
export const isRetryableStatus = (status: number): boolean =>
  !status || status === 408 || status === 429 || status > 499
