// Leader's home: grids and registered people per area, as two sorted horizontal bar charts
// sharing one category axis (the two counts differ by orders of magnitude).
(function () {
  "use strict";
  var dataNode = document.getElementById("scope-chart-data");
  var box = document.getElementById("scope-chart");
  if (!dataNode || !box || !window.echarts) return;
  var data = JSON.parse(dataNode.textContent);
  // ECharts draws the first category at the bottom; reverse so the largest is on top.
  var categories = data.categories.slice().reverse();
  var colours = ["#1f4e8c", "#2e8b57"];
  var chart = echarts.init(box, null, { renderer: "canvas" });
  var narrow = box.clientWidth < 560;

  function grid(i) {
    return narrow
      ? { left: 8, right: 56, top: i === 0 ? 64 : "58%", height: "24%", containLabel: true }
      : { left: i === 0 ? 8 : "52%", width: "42%", top: 64, bottom: 36, containLabel: true };
  }
  var series = data.series.map(function (s, i) {
    return {
      name: s.name, type: "bar", xAxisIndex: i, yAxisIndex: i, barMaxWidth: 22,
      data: s.data.slice().reverse(), itemStyle: { color: colours[i % colours.length] },
      label: { show: true, position: "right", formatter: function (p) { return p.value.toLocaleString(); } }
    };
  });
  chart.setOption({
    animationDuration: 300,
    title: { text: data.title, subtext: data.subtitle, left: 0, itemGap: 6, textStyle: { fontSize: 16 } },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: [grid(0), grid(1)],
    // Each panel names its measure and unit under its axis: the colour is never the only key.
    xAxis: data.series.map(function (s, i) {
      return {
        type: "value", gridIndex: i, minInterval: 1, splitNumber: 3, axisLabel: { hideOverlap: true },
        name: s.name, nameLocation: "middle", nameGap: 24,
        nameTextStyle: { color: colours[i % colours.length], fontWeight: "bold" }
      };
    }),
    yAxis: [0, 1].map(function (i) {
      return { type: "category", gridIndex: i, data: categories, axisTick: { show: false } };
    }),
    series: series
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
