// SOFinance dashboard: draws the charts of the panels with the vendored Chart.js.
// Each chart's figures come from a <script type="application/json"> block written by Django's
// json_script filter, named by its canvas's data-chart attribute (no inline script: CSP).
"use strict";
(function () {
  function formatAmount(value) {
    // The admin's number format: thousands separators, negatives in parentheses.
    const text = Math.abs(value).toLocaleString("en-US", { maximumFractionDigits: 0 });
    return value < 0 ? `(${text})` : text;
  }

  function datasets(spec) {
    return spec.series.map((series) => {
      const data = series.values.map(Number);
      const dataset = { label: series.label, data: data, borderWidth: 1 };
      if (series.line) {
        Object.assign(dataset, {
          type: "line",
          borderColor: series.color,
          backgroundColor: series.color,
          borderWidth: 2,
          pointRadius: 2,
          tension: 0.2,
          order: 0,
        });
      } else {
        dataset.backgroundColor = series.colors || series.color;
        dataset.order = 1;
      }
      return dataset;
    });
  }

  function draw(canvas, spec) {
    const valueAxis = spec.horizontal ? "x" : "y";
    const scales = {};
    scales[valueAxis] = { beginAtZero: true, ticks: { callback: (value) => formatAmount(value) } };
    return new window.Chart(canvas, {
      type: spec.kind || "bar",
      data: { labels: spec.labels, datasets: datasets(spec) },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: {
          legend: { display: spec.series.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: (item) => `${item.dataset.label}: ${formatAmount(item.raw)} ${spec.currency}`,
            },
          },
        },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!window.Chart) return;
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      canvas.chart = draw(canvas, JSON.parse(source.textContent));
      canvas.dataset.drawn = "true";
    });
  });
})();
