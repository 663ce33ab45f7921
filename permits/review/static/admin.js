// Charts of the administration's dashboard (Chart.js, served by us from node_modules).
// Each <canvas data-chart="ID"> is drawn from the JSON in <script id="ID" type="application/json">.
(function () {
  "use strict";
  var colours = {
    active: "#1b7f3b", expired: "#8a8f98", revoked: "#c62828", replaced: "#e08e0b",
    valid: "#1b7f3b", failed: "#c62828", total: "#3366cc"
  };
  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var datasets = spec.series.map(function (s) {
      return {
        label: s.label, data: s.data, backgroundColor: colours[s.key] || "#3366cc",
        borderColor: colours[s.key] || "#3366cc", borderWidth: spec.type === "line" ? 2 : 0,
        pointRadius: 0, fill: spec.type === "line" ? false : undefined, stack: spec.stacked ? "s" : undefined
      };
    });
    new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: !!spec.stacked, ticks: { autoSkip: true, maxTicksLimit: spec.maxTicks || 14 } },
          y: { stacked: !!spec.stacked, beginAtZero: true }
        },
        plugins: { legend: { position: "bottom" } }
      }
    });
    canvas.dataset.drawn = "1";
  }
  function drawAll() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
    document.body.dataset.chartsReady = "1";
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
  // Forms that need a typed confirmation: the button stays off until the number matches.
  document.querySelectorAll("[data-confirm-count]").forEach(function (form) {
    var input = form.querySelector("input[name=typed_count]");
    var button = form.querySelector("button[type=submit]");
    if (!input || !button) { return; }
    var check = function () { button.disabled = input.value.trim() !== form.dataset.confirmCount; };
    input.addEventListener("input", check);
    check();
  });
})();
