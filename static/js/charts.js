/* Planboard charts: every chart reads a JSON endpoint that uses the same selectors as the page's tables. */
(function () {
  "use strict";
  var css = getComputedStyle(document.documentElement);
  var color = function (name) { return css.getPropertyValue(name).trim() || "#616e7c"; };

  // The as-of selector applies as soon as a week is picked.
  document.querySelectorAll("form[data-asof] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  if (typeof Chart === "undefined") return;
  Chart.defaults.font.family = css.fontFamily;
  Chart.defaults.animation = false;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error("chart data: HTTP " + r.status);
      return r.json();
    });
  }

  // Overview: one sparkline per action card (against schedule per week; 100 = on schedule).
  var cards = document.querySelector("[data-overview-url]");
  if (cards && cards.querySelector("canvas[data-sparkline]")) {
    getJSON(cards.getAttribute("data-overview-url")).then(function (data) {
      data.actions.forEach(function (action) {
        var canvas = cards.querySelector('canvas[data-sparkline="' + action.number + '"]');
        if (!canvas) return;
        new Chart(canvas, {
          type: "line",
          data: {
            labels: action.labels,
            datasets: [
              { data: action.attainment, borderColor: color("--brand"), borderWidth: 2, pointRadius: 0, tension: 0.3 },
              { data: action.labels.map(function () { return 100; }), borderColor: color("--muted"), borderDash: [3, 3], borderWidth: 1, pointRadius: 0 }
            ]
          },
          options: {
            responsive: true, maintainAspectRatio: false,
            plugins: { legend: { display: false }, tooltip: { enabled: true } },
            scales: { x: { display: false }, y: { display: false, suggestedMin: 50, suggestedMax: 120 } }
          }
        });
      });
    });
  }

  // Action page: completion against schedule per indicator.
  document.querySelectorAll('canvas[data-chart="indicators"]').forEach(function (canvas) {
    getJSON(canvas.getAttribute("data-url")).then(function (data) {
      canvas.parentElement.style.height = Math.max(160, 28 * data.labels.length + 60) + "px";
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: canvas.getAttribute("data-completion-label") || "%", data: data.completion, backgroundColor: color("--brand") },
            { label: canvas.getAttribute("data-schedule-label") || "%", data: data.schedule, backgroundColor: color("--line"), borderColor: color("--muted"), borderWidth: 1 }
          ]
        },
        options: { indexAxis: "y", responsive: true, maintainAspectRatio: false, scales: { x: { suggestedMin: 0, suggestedMax: 100 } } }
      });
    });
  });
  // A dashed vertical line at one label (the half-year checkpoint), drawn by a tiny plugin.
  var markerPlugin = {
    id: "marker",
    afterDatasetsDraw: function (chart, args, opts) {
      if (!opts || opts.index == null || opts.index < 0) return;
      var x = chart.scales.x.getPixelForValue(opts.index), area = chart.chartArea, ctx = chart.ctx;
      ctx.save(); ctx.strokeStyle = color("--red"); ctx.setLineDash([4, 4]);
      ctx.beginPath(); ctx.moveTo(x, area.top); ctx.lineTo(x, area.bottom); ctx.stroke();
      ctx.fillStyle = color("--red"); ctx.textAlign = "right"; ctx.fillText(opts.label || "", x - 4, area.top + 10); ctx.restore();
    }
  };

  // Indicator page: cumulative actual and target to date (left axis), completion and 序时进度 (right, %).
  document.querySelectorAll('canvas[data-chart="indicator-path"]').forEach(function (canvas) {
    var names = (canvas.getAttribute("data-labels") || "||||").split("|");
    getJSON(canvas.getAttribute("data-url")).then(function (data) {
      var checkpointWeek = data.labels.filter(function (w) { return w <= data.checkpoint; }).pop();
      new Chart(canvas, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [
            { label: names[0], data: data.actual, borderColor: color("--brand"), backgroundColor: color("--brand"), yAxisID: "y", tension: 0.2 },
            { label: names[1], data: data.target_to_date, borderColor: color("--muted"), borderDash: [6, 4], pointRadius: 0, yAxisID: "y" },
            { label: names[2], data: data.completion, borderColor: color("--green"), hidden: true, yAxisID: "pct" },
            { label: names[3], data: data.schedule, borderColor: color("--yellow"), pointRadius: 0, yAxisID: "pct" }
          ]
        },
        options: {
          responsive: true, maintainAspectRatio: false,
          plugins: { marker: { index: data.labels.indexOf(checkpointWeek), label: names[4] } },
          scales: { y: { position: "left", beginAtZero: true }, pct: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } }
        },
        plugins: [markerPlugin]
      });
    });
  });
  // Department page: completeness and timeliness (%), score, and rank (reversed axis: 1 on top).
  document.querySelectorAll('canvas[data-chart="department"]').forEach(function (canvas) {
    var names = (canvas.getAttribute("data-labels") || "|||").split("|");
    getJSON(canvas.getAttribute("data-url")).then(function (data) {
      new Chart(canvas, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [
            { label: names[0], data: data.completeness, borderColor: color("--green"), yAxisID: "y" },
            { label: names[1], data: data.timeliness, borderColor: color("--yellow"), yAxisID: "y" },
            { label: names[2], data: data.score, borderColor: color("--brand"), yAxisID: "y" },
            { label: names[3], data: data.rank, borderColor: color("--focus"), borderDash: [4, 3], yAxisID: "rank", stepped: true }
          ]
        },
        options: {
          responsive: true, maintainAspectRatio: false,
          scales: { y: { beginAtZero: true, suggestedMax: 100 }, rank: { position: "right", reverse: true, min: 1, ticks: { precision: 0 }, grid: { drawOnChartArea: false } } }
        }
      });
    });
  });
})();
