/* 统计看板: draws each panel's chart with the vendored ECharts from the rows the page embeds
   (the same rows as the table beside it and the panel's JSON twin). Clicking a bar, point or
   slice opens the matters behind that figure, as the table's links do. */
(function () {
  "use strict";
  if (!window.echarts) { return; }
  document.documentElement.classList.add("js");
  var COLORS = ["#b8141b", "#1d4ed8", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569", "#ea580c", "#9ca3af"];

  function item(row, name) {
    var v = row.values[name];
    return { value: v === null ? "-" : v, link: row.links[name] || "" };
  }

  function option(data) {
    var rows = data.rows, labels = rows.map(function (r) { return r.label; });
    var base = { color: COLORS, tooltip: { trigger: data.chart === "pie" ? "item" : "axis", confine: true },
                 grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true }, animation: false };
    if (data.chart === "pie") {
      var name = data.series[0].name;
      base.legend = { type: "scroll", bottom: 0 };
      base.series = [{ type: "pie", name: data.series[0].label, radius: ["35%", "65%"], center: ["50%", "45%"],
        label: { formatter: "{b}\n{c}（{d}%）" },
        data: rows.map(function (r) { var d = item(r, name); d.name = r.label; return d; }) }];
      return base;
    }
    if (data.chart === "line") {
      base.legend = { top: 0 };
      base.xAxis = { type: "category", data: labels, boundaryGap: false };
      base.yAxis = { type: "value", minInterval: 1 };
      base.series = data.series.map(function (s) {
        return { type: "line", name: s.label, symbolSize: 8, triggerLineEvent: true,
                 data: rows.map(function (r) { return item(r, s.name); }) };
      });
      return base;
    }
    var first = data.series[0];
    if (data.chart === "hbar") {
      var reversed = rows.slice().reverse();
      base.yAxis = { type: "category", data: reversed.map(function (r) { return r.label; }),
                     axisLabel: { width: 160, overflow: "truncate" } };
      base.xAxis = { type: "value", minInterval: 1 };
      base.series = [{ type: "bar", name: first.label, label: { show: true, position: "right" },
                       data: reversed.map(function (r) { return item(r, first.name); }) }];
      return base;
    }
    base.xAxis = { type: "category", data: labels, axisLabel: { interval: 0, rotate: 30 } };
    base.yAxis = { type: "value", max: data.panel === "rates" ? 100 : null };
    base.series = [{ type: "bar", name: first.label, label: { show: true, position: "top" },
                     data: rows.map(function (r) { return item(r, first.name); }) }];
    return base;
  }

  var charts = [];
  document.querySelectorAll(".dash-chart[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    if (!data.rows.length) { el.style.display = "none"; return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(data));
    chart.on("click", function (params) {
      var link = params.data && params.data.link;
      if (link) { window.location.href = link; }
    });
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
