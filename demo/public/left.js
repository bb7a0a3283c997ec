import { poll, renderSmc, renderWire } from './panes.js'

const since = Number(new URLSearchParams(location.search).get('since')) || 0
poll(500, since, (traffic, state) => {
  renderWire(document.getElementById('wire'), traffic, undefined)
  renderSmc(document.getElementById('smc'), state)
})
