// Indicator pages: sortable tables; the 按期结案率 ranking (horizontal bars, sorted) and the
// monthly trend (lines). Every chart carries its title, unit and data time (UI.md).
(function () {
  "use strict";

  var GRADE_COLOURS = { A: "#1e7b34", B: "#1f5fbf", C: "#f2c200", D: "#c8102e", E: "#111111" };

  // ---- Sortable tables: a header button sorts by the cells' data-sort-value; blanks go last.
  function sortTable(table, index, type, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    if (rows.length < 2) return;
    var ascending = th.getAttribute("aria-sort") === "descending" ||
      (!th.hasAttribute("aria-sort") && type === "text");
    table.querySelectorAll("thead th").forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    function key(row) {
      var raw = row.cells[index].getAttribute("data-sort-value");
      if (raw === null || raw === "") return null;
      return type === "number" ? parseFloat(raw) : raw;
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === null && y === null) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      var order = type === "number" ? x - y : String(x).localeCompare(String(y), "zh-CN");
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, index) {
      var button = th.querySelector(".sort-button");
      if (!button) return;
      button.addEventListener("click", function () {
        sortTable(table, index, button.getAttribute("data-sort-type") || "number", th);
      });
    });
  });

  // ---- Charts
  var dataNode = document.getElementById("indicator-charts");
  if (!dataNode || !window.echarts) return;
  var data = JSON.parse(dataNode.textContent);
  var charts = [];

  // Title, then the subtitle (period, unit, data time) wrapped to the chart's width.
  function titled(spec, box) {
    return {
      text: spec.title, subtext: spec.subtitle, left: 0, itemGap: 6,
      textStyle: { fontSize: 16 },
      subtextStyle: { fontSize: 12, width: Math.max(box.clientWidth - 8, 120), overflow: "break" }
    };
  }

  var rankingBox = document.getElementById("ranking-chart");
  if (rankingBox && data.ranking.names.length) {
    var ranking = data.ranking;
    var narrow = rankingBox.clientWidth < 560;
    // One bar per row, every name readable: the box grows with the rows up to MAX_BARS;
    // beyond that a slider scrolls through the rest (the best shown first).
    var MAX_BARS = 20;
    var count = ranking.names.length;
    rankingBox.style.height = Math.max(320, 28 * Math.min(count, MAX_BARS) + 120) + "px";
    var rankingChart = echarts.init(rankingBox, null, { renderer: "canvas" });
    // ECharts draws the first category at the bottom: reverse so that the best is on top.
    var names = ranking.names.slice().reverse();
    var values = ranking.values.slice().reverse();
    var grades = ranking.grades.slice().reverse();
    rankingChart.setOption({
      animationDuration: 300,
      title: titled(ranking, rankingBox),
      tooltip: {
        trigger: "axis", axisPointer: { type: "shadow" },
        valueFormatter: function (v) { return v == null ? "—" : v.toFixed(1) + "%"; }
      },
      grid: { left: 8, right: count > MAX_BARS ? 84 : 64, top: narrow ? 92 : 74, bottom: 28, containLabel: true },
      dataZoom: count > MAX_BARS ? [
        { type: "slider", yAxisIndex: 0, right: 6, width: 14, startValue: count - MAX_BARS, endValue: count - 1,
          showDetail: false, brushSelect: false },
        { type: "inside", yAxisIndex: 0, zoomOnMouseWheel: false, moveOnMouseWheel: true, moveOnMouseMove: false }
      ] : [],
      xAxis: {
        type: "value", max: 100, min: 0, interval: 20, axisLabel: { formatter: "{value}%", hideOverlap: true }
      },
      yAxis: {
        type: "category", data: names, axisTick: { show: false },
        axisLabel: { width: narrow ? 96 : 170, overflow: "truncate" }
      },
      series: [{
        name: "按期结案率", type: "bar", barMaxWidth: 18,
        data: values.map(function (v, i) {
          return { value: v, itemStyle: { color: GRADE_COLOURS[grades[i]] || "#1f4e8c" } };
        }),
        label: {
          show: true, position: "right",
          // The grade letter beside the bar: its colour is never the only sign (UI.md).
          formatter: function (p) {
            var grade = grades[p.dataIndex];
            return (p.value == null ? "—" : p.value.toFixed(1) + "%") + (grade ? "  " + grade : "");
          }
        }
      }]
    });
    charts.push(rankingChart);
  }

  var trendBox = document.getElementById("trend-chart");
  if (trendBox) {
    var trend = data.trend;
    var trendChart = echarts.init(trendBox, null, { renderer: "canvas" });
    var colours = ["#1f4e8c", "#1e7b34", "#b06000"];
    var small = trendBox.clientWidth < 560;
    trendChart.setOption({
      animationDuration: 300,
      title: titled(trend, trendBox),
      tooltip: {
        trigger: "axis",
        valueFormatter: function (v) { return v == null ? "—" : v.toFixed(1) + "%"; }
      },
      legend: { top: small ? 70 : 54, left: 0, itemWidth: 18 },
      grid: { left: 8, right: 24, top: small ? 108 : 92, bottom: 28, containLabel: true },
      xAxis: {
        type: "category", data: trend.months, boundaryGap: false,
        axisLabel: { hideOverlap: true }
      },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: trend.series.map(function (s, i) {
        return {
          name: s.name, type: "line", data: s.data, connectNulls: false, symbolSize: 6,
          lineStyle: { width: 2, type: i === 2 ? "dashed" : "solid" }, itemStyle: { color: colours[i % 3] }
        };
      })
    });
    charts.push(trendChart);
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
