// What a browser makes of a relay's answer: the plugin's own verdict (src/smc/smcVerdict.ts, the
// package does not export it), and the rows it would then count as delivered. Tests hold every
// such row to what SMC stored.
import { importSource } from './importSource.mjs'

const { smcVerdict } = await importSource(`export { smcVerdict } from './src/smc/smcVerdict.ts'`)

/** The browser's verdict on an answer read by `readAnswer`. */
export const verdictOf = (sent) => smcVerdict(sent.status, sent.text)

/**
 * The rows of `rows` a browser counts as delivered after `sent`: none unless the verdict says
 * delivered (refused rows listed, no retry); then all but those listed.
 * @param {{ status: number, text: string }} sent @param {unknown[]} rows
 */
export function deliveredRows(sent, rows) {
  const verdict = verdictOf(sent)
  if (!verdict.refused || verdict.retry) return []
  return rows.filter((_, i) => !(i in verdict.refused))
}
