// The linkage board's charts: rates by county (linkage and push timeliness side by side) and the
// station ranking (horizontal bars, sorted, green at or above the target, red below), each with
// the 95 % target as a red dashed line; every bar carries its value (never colour alone).
window.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var node = document.getElementById("linkage-charts");
  if (!node || !window.echarts) return;
  var data = JSON.parse(node.textContent);
  var charts = [];
  var GOOD = "#1e7b34", BAD = "#c8102e", FIRST = "#1f4e8c", SECOND = "#9db5d6";

  function titled(spec, box) {
    return {
      text: spec.title, subtext: spec.subtitle, left: 0, itemGap: 6, textStyle: { fontSize: 16 },
      subtextStyle: { fontSize: 12, width: Math.max(box.clientWidth - 8, 120), overflow: "break" }
    };
  }
  function pct(v) { return v == null ? "—" : v.toFixed(1) + "%"; }
  function coloured(values, target) {
    return values.map(function (v) { return { value: v, itemStyle: { color: v != null && v >= target ? GOOD : BAD } }; });
  }
  function targetLine(spec, axis) {
    var point = {}; point[axis] = spec.target;
    return {
      silent: true, symbol: "none", lineStyle: { color: BAD, type: "dashed", width: 2 },
      label: { formatter: spec.labels.target, color: BAD, position: "end" }, data: [point]
    };
  }

  var countyBox = document.getElementById("county-chart");
  if (countyBox) {
    var county = data.county;
    var small = countyBox.clientWidth < 560;
    var c = echarts.init(countyBox);
    c.setOption({
      animationDuration: 300,
      title: titled(county, countyBox),
      tooltip: { trigger: "axis", valueFormatter: pct },
      legend: { top: small ? 70 : 54, left: 0, data: [county.labels.linkage, county.labels.timeliness] },
      grid: { left: 8, right: 56, top: small ? 108 : 92, bottom: 28, containLabel: true },
      xAxis: { type: "category", data: county.names, axisLabel: { interval: 0, hideOverlap: true } },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        { name: county.labels.linkage, type: "bar", barMaxWidth: 36, data: county.linkage, itemStyle: { color: FIRST },
          label: { show: true, position: "insideTop", color: "#fff", formatter: function (p) { return pct(p.value); } },
          markLine: targetLine(county, "yAxis") },
        { name: county.labels.timeliness, type: "bar", barMaxWidth: 36, data: county.timeliness, itemStyle: { color: SECOND },
          label: { show: true, position: "insideTop", color: "#1c2430", formatter: function (p) { return pct(p.value); } } }
      ]
    });
    charts.push(c);
  }

  var stationBox = document.getElementById("station-chart");
  if (stationBox) {
    var station = data.station;
    var MAX_BARS = 15, count = station.names.length;
    stationBox.style.height = Math.max(340, 28 * Math.min(count, MAX_BARS) + 130) + "px";
    var narrow = stationBox.clientWidth < 560;
    var s = echarts.init(stationBox);
    // ECharts draws the first category at the bottom: reverse so that the best is on top.
    var names = station.names.slice().reverse(), values = station.linkage.slice().reverse();
    s.setOption({
      animationDuration: 300,
      title: titled(station, stationBox),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: pct },
      grid: { left: 8, right: count > MAX_BARS ? 90 : 70, top: narrow ? 92 : 74, bottom: 28, containLabel: true },
      dataZoom: count > MAX_BARS ? [
        { type: "slider", yAxisIndex: 0, right: 6, width: 14, startValue: count - MAX_BARS, endValue: count - 1, showDetail: false },
        { type: "inside", yAxisIndex: 0, zoomOnMouseWheel: false, moveOnMouseWheel: true }
      ] : [],
      xAxis: { type: "value", min: 0, max: 100, interval: 20, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: names, axisTick: { show: false }, axisLabel: { width: narrow ? 96 : 170, overflow: "truncate" } },
      series: [{
        name: station.labels.linkage, type: "bar", barMaxWidth: 18, data: coloured(values, station.target),
        label: { show: true, position: "right", formatter: function (p) { return pct(p.value); } },
        markLine: targetLine(station, "xAxis")
      }]
    });
    charts.push(s);
  }
  window.addEventListener("resize", function () { charts.forEach(function (ch) { ch.resize(); }); });
});
