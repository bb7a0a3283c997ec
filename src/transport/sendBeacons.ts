/**
 * Hands `items` to `navigator.sendBeacon` (a string body goes as `text/plain`). The browser
 * refuses a beacon it has no quota for by returning `false`; the items are then halved and
 * offered again, down to single items. Returns the items no beacon took.
 */
export function sendBeacons<T>(url: string, items: T[], body: (items: T[]) => string): T[] {
  if (!items.length || navigator.sendBeacon(url, body(items))) return []
  if (items.length < 2) return items
  const half = items.length >> 1
  return [
    ...sendBeacons(url, items.slice(0, half), body),
    ...sendBeacons(url, items.slice(half), body),
  ]
}
