// The term chart: one line per school, the daily absence rate (缺勤率) in percent.
(function () {
  function draw(el) {
    var data = JSON.parse(document.getElementById(el.id + "-data").textContent);
    var dates = {};
    data.schools.forEach(function (s) { s.points.forEach(function (p) { dates[p.date] = true; }); });
    var axis = Object.keys(dates).sort();
    var series = data.schools.map(function (s) {
      var by = {};
      s.points.forEach(function (p) { by[p.date] = p.absence_rate === null ? null : +(p.absence_rate * 100).toFixed(2); });
      return { name: s.school_name, type: "line", showSymbol: false, connectNulls: false,
               data: axis.map(function (d) { return d in by ? by[d] : null; }) };
    });
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 56 },
      xAxis: { type: "category", data: axis },
      yAxis: { type: "value", name: "缺勤率 %", min: 0 },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
      series: series,
      animation: false
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.dataset.drawn = "1";
  }
  function all() { document.querySelectorAll(".chart").forEach(function (el) { if (!el.dataset.drawn) draw(el); }); }
  if (document.readyState !== "loading") all(); else document.addEventListener("DOMContentLoaded", all);
  document.addEventListener("htmx:afterSettle", all);
})();
