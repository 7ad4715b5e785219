// 纠纷统计 charts: the monthly trend (bars: 受理数, 五类; line: 调解成功率 on its own axis),
// and the counts by type and by area as horizontal bars, largest on top. Each chart carries
// its title, unit and data time (UI.md). Runs after ECharts has loaded (deferred scripts).
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var node = document.getElementById("dispute-charts");
  if (!node || !window.echarts) return;
  var data = JSON.parse(node.textContent);
  var charts = [];
  function titled(spec, box) {
    return {
      text: spec.title, subtext: spec.subtitle, left: 0, itemGap: 6, textStyle: { fontSize: 16 },
      subtextStyle: { fontSize: 12, width: Math.max(box.clientWidth - 8, 120), overflow: "break" }
    };
  }
  var trendBox = document.getElementById("trend-chart");
  if (trendBox) {
    var t = data.trend;
    var chart = echarts.init(trendBox);
    chart.setOption({
      animationDuration: 300,
      title: titled(t, trendBox),
      tooltip: { trigger: "axis" },
      legend: { top: trendBox.clientWidth < 560 ? 54 : 4, right: 0 },
      grid: { left: 8, right: 8, top: trendBox.clientWidth < 560 ? 96 : 70, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: t.months },
      yAxis: [
        { type: "value", name: "件", minInterval: 1 },
        { type: "value", name: "%", min: 0, max: 100, splitLine: { show: false } }
      ],
      series: [
        { name: t.names.total, type: "bar", data: t.series.total, itemStyle: { color: "#1f4e8c" } },
        { name: t.names.key_types, type: "bar", data: t.series.key_types, itemStyle: { color: "#8fa8cc" } },
        {
          name: t.names.success_rate, type: "line", yAxisIndex: 1, data: t.series.success_rate,
          itemStyle: { color: "#1e8e3e" }, connectNulls: false,
          tooltip: { valueFormatter: function (v) { return v == null ? "—" : v.toFixed(1) + "%"; } }
        }
      ]
    });
    charts.push(chart);
  }
  function ranking(id, spec, colours) {
    var box = document.getElementById(id);
    if (!box) return;
    box.style.height = Math.max(300, 26 * spec.names.length + 110) + "px";
    var chart = echarts.init(box);
    // ECharts draws the first category at the bottom: reverse so that the largest is on top.
    var names = spec.names.slice().reverse();
    var values = spec.values.slice().reverse();
    var keys = (spec.key || []).slice().reverse();
    chart.setOption({
      animationDuration: 300,
      title: titled(spec, box),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 48, top: box.clientWidth < 560 ? 80 : 64, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1, name: "件" },
      yAxis: { type: "category", data: names, axisLabel: { width: 110, overflow: "truncate" } },
      series: [{
        type: "bar", data: values.map(function (v, i) {
          return { value: v, itemStyle: { color: keys[i] ? colours[0] : colours[1] } };
        }),
        barMaxWidth: 28, label: { show: true, position: "right" }
      }]
    });
    charts.push(chart);
  }
  ranking("type-chart", data.types, ["#1f4e8c", "#8fa8cc"]);
  ranking("area-chart", data.areas, ["#1f4e8c", "#1f4e8c"]);
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
});
