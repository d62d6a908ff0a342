// Apiary's page script: draws the charts from the JSON options the server
// put into data-option attributes, and keeps live pages current. It is the
// only script besides ECharts; pages carry no inline script.
(function () {
  "use strict";

  var charts = [];

  function drawCharts() {
    if (typeof echarts === "undefined") return;
    var els = document.querySelectorAll(".chart[data-option]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var option;
      try {
        option = JSON.parse(el.getAttribute("data-option"));
      } catch (e) {
        el.textContent = "chart data unreadable";
        continue;
      }
      // The min/max band is "min" plus a stacked "max - min"; stack across
      // signs, or a band of negative values (RSSI) is drawn from zero.
      (option.series || []).forEach(function (s) {
        if (s.stack === "band") s.stackStrategy = "all";
      });
      var events = option.apiaryEvents;
      delete option.apiaryEvents;
      if (events && option.series && option.series.length) {
        option.series[option.series.length - 1].markLine = {
          symbol: "none",
          silent: false,
          lineStyle: { color: "#6a4c93", type: "dashed" },
          data: events
        };
      }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      charts.push(chart);
    }
  }

  function resize() {
    for (var i = 0; i < charts.length; i++) charts[i].resize();
  }

  // Live pages poll the catalogue and reload when it changed: a new
  // channel, a new field or a new reading shows up without a click.
  function watch() {
    if (document.body.getAttribute("data-live") !== "true") return;
    var last = null;
    function poll() {
      if (document.hidden) return;
      var req = new XMLHttpRequest();
      req.open("GET", "/api/channels");
      req.onload = function () {
        if (req.status !== 200) return;
        if (last !== null && req.responseText !== last) {
          window.location.reload();
          return;
        }
        last = req.responseText;
      };
      req.send();
    }
    poll();
    setInterval(poll, 5000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    watch();
    window.addEventListener("resize", resize);
  });
})();
