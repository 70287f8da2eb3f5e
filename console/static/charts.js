/* The board's charts, drawn with Apache ECharts (vendored, see README) from
 * the figures the board already holds: board.js fires "board:rendered" with
 * its state and totals after each render, so a chart and the numbers beside
 * it always come from the same figures. Canvas renderer: no inline style
 * sheets, so the Content-Security-Policy (style-src 'self') holds. */
(function () {
  "use strict";
  if (!window.echarts) return;
  var words = JSON.parse(document.getElementById("chart-strings").textContent);
  var ZONE = JSON.parse(document.getElementById("board-config").textContent).timezone;  // the TIMEZONE setting
  var wall = document.body.classList.contains("wall");
  var charts = {};
  var INK = wall ? "#e8eef5" : "#1d2630", MUTED = wall ? "#b8c7d6" : "#5c6b7a", LINE = wall ? "#3a5275" : "#d8dee5";
  var PALETTE = ["#0b5cad", "#c62828", "#2e7d32", "#8a5200", "#6a1b9a", "#00838f", "#ad1457", "#4e342e", "#1565c0", "#558b2f"];

  function fontSize() { return wall ? parseFloat(getComputedStyle(document.documentElement).fontSize) : 13; }
  function fmt(template, values) { return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; }); }
  function chart(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    if (!node.clientWidth) return null;  // on a wall page not shown: drawn when it is
    if (!charts[id]) charts[id] = echarts.init(node, null, { renderer: "canvas" });
    return charts[id];
  }
  function axisStyle() {
    var size = fontSize();
    return { axisLabel: { color: MUTED, fontSize: size }, axisLine: { lineStyle: { color: LINE } }, splitLine: { lineStyle: { color: LINE } } };
  }
  function base() {
    var size = fontSize();
    return { animation: false, textStyle: { color: INK, fontSize: size }, legend: { textStyle: { color: INK, fontSize: size }, top: 0 },
             grid: { left: 8, right: 16, top: size * 2.6, bottom: 8, containLabel: true }, tooltip: { trigger: "axis" }, color: PALETTE };
  }
  function shortTime(iso) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, hour12: false, hour: "2-digit", minute: "2-digit" })
      .formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
    return (parts.hour === "24" ? "00" : parts.hour) + ":" + parts.minute;
  }

  function drawByDay(figures) {
    var sum = function (list) { return list.reduce(function (a, b) { return a + b; }, 0); };
    var last = figures.days.length - 1;
    var text = document.getElementById("chart-by-day-figures");
    if (text) text.textContent = fmt(words.by_day_figures, {
      n: figures.days.length, received: sum(figures.received), settled: sum(figures.settled),
      today_received: last >= 0 ? figures.received[last] : 0, today_settled: last >= 0 ? figures.settled[last] : 0 });
    var c = chart("chart-by-day");
    if (!c) return;
    var x = Object.assign({ type: "category", data: figures.days.map(function (d) { return d.slice(5); }) }, axisStyle());
    var y = Object.assign({ type: "value", minInterval: 1 }, axisStyle());
    c.setOption(Object.assign(base(), { xAxis: x, yAxis: y, series: [
      { name: words.received, type: "bar", data: figures.received, itemStyle: { color: "#0b5cad" } },
      { name: words.settled, type: "bar", data: figures.settled, itemStyle: { color: "#2e7d32" } }] }), true);
  }

  function drawOnSite(lines, from, to) {
    var text = document.getElementById("chart-on-site-figures");
    var latest = lines.filter(function (l) { return l.points.length && l.points[l.points.length - 1][1] > 0; })
      .map(function (l) { return l.name + " " + l.points[l.points.length - 1][1]; });
    if (text) text.textContent = latest.length ? fmt(words.on_site_figures, { list: latest.join("、") }) : words.no_updates;
    var c = chart("chart-on-site");
    if (!c) return;
    // a little room after the newest update, so a point just posted is not on the edge
    var end = new Date(new Date(to).getTime() + 30 * 60000).toISOString();
    var x = Object.assign({ type: "time", min: from, max: end, axisLabel: { color: MUTED, fontSize: fontSize(), formatter: function (v) { return shortTime(v); } } }, { axisLine: axisStyle().axisLine, splitLine: { show: false } });
    var y = Object.assign({ type: "value", minInterval: 1 }, axisStyle());
    c.setOption(Object.assign(base(), { legend: { show: false }, xAxis: x, yAxis: y, series: lines.map(function (l) {
      return { name: l.name, type: "line", step: "end", showSymbol: true, symbolSize: Math.max(6, fontSize() * 0.6), lineStyle: { width: wall ? 3 : 2 }, data: l.points.map(function (p) { return [p[0], p[1]]; }) };
    }) }), true);
  }

  function drawStatus(detail) {
    var t = detail.totals, cfg = detail.config;
    var slices = detail.order.filter(function (s) { return t.byStatus[s]; })
      .map(function (s) { return { name: cfg.statuses[s], value: t.byStatus[s], itemStyle: { color: detail.colours[s] } }; });
    var text = document.getElementById("chart-status-figures");
    if (text) text.textContent = slices.map(function (s) { return s.name + " " + s.value; }).join(" · ");
    var c = chart("chart-status");
    if (!c) return;
    var size = fontSize();
    c.setOption({ animation: false, textStyle: { color: INK, fontSize: size }, tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["30%", "55%"], data: slices, label: { color: INK, fontSize: size, formatter: "{b} {c}" } }] }, true);
  }

  var last = null;
  function draw() {
    if (!last) return;
    drawByDay(last.state.charts.by_day);
    var newest = last.state.lastChange && last.state.lastChange > last.state.charts.on_site_to ? last.state.lastChange : last.state.charts.on_site_to;
    drawOnSite(last.state.charts.on_site, last.state.charts.on_site_from, newest);
    drawStatus(last);
  }
  document.addEventListener("board:rendered", function (event) { last = event.detail; draw(); });
  document.addEventListener("wall:page", draw);  // a wall page just shown: its charts get their size
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (id) { charts[id].resize(); }); });
})();
