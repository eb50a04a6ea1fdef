// Vega-Lite charts, rendered offline and under our CSP (no 'unsafe-eval').
//
// A page includes the `vegaChartScripts()` macro once and marks each chart with
//   <div class="app-chart" data-vega-spec="SPEC-ID" aria-describedby="TABLE-ID"></div>
//   <script type="application/json" id="SPEC-ID">{...Vega-Lite spec...}</script>
// The JSON block is data, not script, so CSP allows it without a nonce. Expressions are
// evaluated by vega-interpreter instead of generated code. Every chart must sit next to a
// table (or summary) holding the same figures: the chart is an enhancement, not the only copy.
/* global vegaEmbed, vegaInterpreter */
function renderCharts () {
  for (const element of document.querySelectorAll('[data-vega-spec]')) {
    const source = document.getElementById(element.dataset.vegaSpec)
    if (!source) continue
    let spec
    try {
      spec = JSON.parse(source.textContent)
    } catch (error) {
      element.textContent = 'This chart could not be drawn. The table shows the same figures.'
      continue
    }
    vegaEmbed(element, spec, {
      actions: false,
      // no <style> element injected (the CSP allows only our own style sheets) and Vega's
      // own tooltips (a title attribute) rather than vega-tooltip, which injects one too
      defaultStyle: false,
      tooltip: false,
      ast: true,
      expr: vegaInterpreter.expressionInterpreter,
      renderer: 'svg'
    }).then(() => {
      element.dataset.chartRendered = 'true'
    }).catch(() => {
      element.textContent = 'This chart could not be drawn. The table shows the same figures.'
      element.dataset.chartRendered = 'failed'
    })
  }
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', renderCharts)
} else {
  renderCharts()
}
