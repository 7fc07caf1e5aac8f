/* Planboard charts: every chart reads its data from the page itself (a json_script element named by the
   canvas's data-chart-source), built by the same selectors as the page's tables: no second request, and
   nothing to break when a session has expired. */
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

  // The chart data the page carries, or null (no data element: no chart).
  function pageData(element) {
    var source = element && document.getElementById(element.getAttribute("data-chart-source"));
    return source ? JSON.parse(source.textContent) : null;
  }
  var lightColors = { green: "--green", yellow: "--yellow", red: "--red" };

  // Overview: one sparkline per action card (against schedule per week; 100 = on schedule).
  var cards = document.querySelector(".cards[data-chart-source]");
  var overview = cards && cards.querySelector("canvas[data-sparkline]") && pageData(cards);
  if (overview) {
    overview.actions.forEach(function (action) {
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
  }

  // A dashed vertical line at one label (the half-year checkpoint) or one value (100 %), drawn by a tiny plugin.
  var markerPlugin = {
    id: "marker",
    afterDatasetsDraw: function (chart, args, opts) {
      var at = opts && (opts.value != null ? opts.value : opts.index);
      if (at == null || at < 0) return;
      var x = chart.scales.x.getPixelForValue(at), area = chart.chartArea, ctx = chart.ctx;
      ctx.save(); ctx.strokeStyle = color("--red"); ctx.setLineDash([4, 4]);
      ctx.beginPath(); ctx.moveTo(x, area.top); ctx.lineTo(x, area.bottom); ctx.stroke();
      // A value line (100 %) is labelled above the plot area (the chart keeps room there), a label line inside it.
      var y = opts.value != null ? area.top - 4 : area.top + 10;
      ctx.fillStyle = color("--red"); ctx.textAlign = "right"; ctx.fillText(opts.label || "", x - 4, y); ctx.restore();
    }
  };

  // Action page: each indicator against schedule (100 = on schedule; rates: on target), coloured by its light.
  document.querySelectorAll('canvas[data-chart="indicators"]').forEach(function (canvas) {
    var data = pageData(canvas);
    if (!data) return;
    canvas.parentElement.style.height = Math.max(160, 28 * data.labels.length + 60) + "px";
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: canvas.getAttribute("data-label") || "%",
          data: data.attainment,
          backgroundColor: data.lights.map(function (light) { return color(lightColors[light] || "--line"); }),
          borderColor: color("--muted"), borderWidth: 1
        }]
      },
      options: {
        indexAxis: "y", responsive: true, maintainAspectRatio: false, layout: { padding: { top: 16 } },
        plugins: { legend: { display: false }, marker: { value: 100, label: canvas.getAttribute("data-marker-label") || "100" } },
        scales: { x: { suggestedMin: 0, suggestedMax: 120 } }
      },
      plugins: [markerPlugin]
    });
  });

  // Indicator page: cumulative actual and target to date (left axis), completion and 序时进度 (right, %);
  // a rate: the actual rate against the target rate, with no 序时 (a rate is not judged against time elapsed).
  document.querySelectorAll('canvas[data-chart="indicator-path"]').forEach(function (canvas) {
    var names = (canvas.getAttribute("data-labels") || "||||").split("|");
    var data = pageData(canvas);
    if (!data) return;
    var rate = data.measure === "rate";
    var checkpointWeek = data.labels.filter(function (w) { return w <= data.checkpoint; }).pop();
    var datasets = [
      { label: names[0], data: data.actual, borderColor: color("--brand"), backgroundColor: color("--brand"), yAxisID: "y", tension: 0.2 },
      { label: names[1], data: data.target_to_date, borderColor: color("--muted"), borderDash: [6, 4], pointRadius: 0, yAxisID: "y" }
    ];
    var scales = { y: { position: "left", beginAtZero: !rate } };
    if (!rate) {
      datasets.push(
        { label: names[2], data: data.completion, borderColor: color("--green"), hidden: true, yAxisID: "pct" },
        { label: names[3], data: data.schedule, borderColor: color("--yellow"), pointRadius: 0, yAxisID: "pct" }
      );
      scales.pct = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } };
    }
    new Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false,
        plugins: { marker: { index: data.labels.indexOf(checkpointWeek), label: names[4] } },
        scales: scales
      },
      plugins: [markerPlugin]
    });
  });

  // Department page: completeness and timeliness (%), score, and rank (reversed axis: 1 on top).
  document.querySelectorAll('canvas[data-chart="department"]').forEach(function (canvas) {
    var names = (canvas.getAttribute("data-labels") || "|||").split("|");
    var data = pageData(canvas);
    if (!data) return;
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
})();
