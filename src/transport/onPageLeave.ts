/**
 * Calls `leave(true)` on `pagehide` (the page is being left, or frozen into the back/forward
 * cache), `leave(false)` when the page becomes hidden (tab switch, app switch, or the last event
 * a mobile browser fires before killing the tab), and `back()` when a frozen page is restored.
 * Never `unload`/`beforeunload`: they are unreliable on mobile and keep pages out of the
 * back/forward cache. Returns a function that removes the listeners.
 */
export function onPageLeave(leave: (final: boolean) => void, back: () => void): () => void {
  const hidden = (): void => {
    if (document.visibilityState === 'hidden') leave(false)
  }
  const hide = (): void => leave(true)
  const show = (e: PageTransitionEvent): void => {
    if (e.persisted) back()
  }
  addEventListener('pagehide', hide)
  addEventListener('pageshow', show)
  document.addEventListener('visibilitychange', hidden)
  return () => {
    removeEventListener('pagehide', hide)
    removeEventListener('pageshow', show)
    document.removeEventListener('visibilitychange', hidden)
  }
}
