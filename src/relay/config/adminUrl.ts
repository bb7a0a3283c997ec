import { httpsOrLoopbackUrl } from '../../smc/httpsOrLoopbackUrl.js'
import { optionLabel } from './envNames.js'

/** `https://acme.slgnt.eu` → `https://acme.slgnt.eu/Portal/Api`, or a problem. */
export function adminUrl(value: string, problems: string[]): string {
  if (!value) return ''
  const label = optionLabel('smcAdminUrl')
  // A URL may carry credentials before its host (`https://key:secret@host`): never shown.
  const shown = JSON.stringify(value.replace(/^([^/@]*\/\/)?[^/]*@/, '$1[redacted]@'))
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push(`${label} must be a URL like https://acme.slgnt.eu; got ${shown}`)
    return ''
  }
  if (!httpsOrLoopbackUrl(value)) {
    problems.push(`${label} must use https (http only for localhost); got ${shown}`)
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    problems.push(
      `${label} must be the admin URL without a path or credentials, like https://acme.slgnt.eu; got ${shown}`,
    )
  }
  return `${url.origin}/Portal/Api`
}
