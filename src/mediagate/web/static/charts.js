// The console's per-day charts: uPlot (vendored beside this file, MIT) drawing the numbers
// the page carries in each chart's data-chart attribute (the usage API's rows, made into
// columns by web/charts.py). Counts go on the left axis, money (micros) on the right; the
// legend under a chart shows the day under the pointer, money as the exact decimal the
// tables print. Each chart is kept in window.mediagateCharts by its element's id.
(function () {
  "use strict";
  const COLOURS = ["#2f6fde", "#7a5af8", "#d92d20", "#12b76a", "#b7791f"];
  const charts = (window.mediagateCharts = {});

  function money(micros) {
    // core/money.py's text(): an exact decimal, trailing zeros dropped.
    const sign = micros < 0 ? "-" : "";
    const abs = Math.abs(micros);
    const whole = Math.floor(abs / 1e6);
    const frac = abs % 1e6;
    if (!frac) return sign + whole;
    return (sign + whole + "." + String(frac).padStart(6, "0")).replace(/0+$/, "");
  }

  function dayOf(seconds) {
    return new Date(seconds * 1000).toISOString().slice(0, 10);
  }

  function build(el) {
    const spec = JSON.parse(el.dataset.chart);
    const xs = spec.days.map((d) => Date.parse(d + "T00:00:00Z") / 1000);
    const hasMoney = spec.series.some((s) => s.unit === "micros");
    const series = [{ label: "day", value: (u, v) => (v == null ? "—" : dayOf(v)) }];
    spec.series.forEach((s, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const bars = s.kind === "bars";
      series.push({
        label: s.label,
        scale: s.unit === "micros" ? "micros" : "n",
        stroke: colour,
        fill: bars ? colour + "55" : undefined,
        width: bars ? 1 : 2,
        points: { show: !bars, size: 5 },
        paths: bars ? uPlot.paths.bars({ size: [0.6, 24] }) : undefined,
        value: (u, v) => (v == null ? "—" : s.unit === "micros" ? money(v) : String(v)),
      });
    });
    const axes = [
      { values: (u, ticks) => ticks.map((t) => dayOf(t).slice(5)) },
      { scale: "n", label: spec.left || "" },
    ];
    if (hasMoney) {
      axes.push({
        scale: "micros", side: 1, label: "spend", grid: { show: false },
        values: (u, ticks) => ticks.map((t) => money(Math.round(t))),
      });
    }
    const opts = {
      width: Math.max(280, el.clientWidth),
      height: 240,
      scales: { x: { time: true }, n: { range: (u, lo, hi) => [0, Math.max(1, hi * 1.1)] },
                micros: { range: (u, lo, hi) => [0, Math.max(1, hi * 1.1)] } },
      series: series,
      axes: axes,
      legend: { live: true },
      cursor: { points: { size: 7 } },
    };
    const data = [xs].concat(spec.series.map((s) => s.values));
    const chart = new uPlot(opts, data, el);
    charts[el.id] = chart;
    return chart;
  }

  function start() {
    document.querySelectorAll("[data-chart]").forEach(build);
    window.addEventListener("resize", () => {
      Object.entries(charts).forEach(([id, chart]) => {
        const el = document.getElementById(id);
        chart.setSize({ width: Math.max(280, el.clientWidth), height: 240 });
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
