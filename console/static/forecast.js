/* The board's early-warning panel: arrivals per bin beside the forecast line
 * and its 80% band, in plain SVG (no chart library). Refetches the forecast
 * every data-refresh-ms; the server refits only when complainants arrive. */
(function () {
  "use strict";
  var panel = document.getElementById("forecast");
  if (!panel) return;
  var words = JSON.parse(document.getElementById("forecast-strings").textContent);
  var svg = document.getElementById("forecast-chart");
  var NS = "http://www.w3.org/2000/svg";
  var W = 800, H = 220, PAD_L = 44, PAD_R = 8, PAD_T = 10, PAD_B = 24;
  var refresh = parseInt(panel.dataset.refreshMs, 10) || 5000;

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  function node(tag, attrs, text) {
    var n = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function yuan(fen) {
    var v = fen / 100;
    return v >= 1e8 ? (v / 1e8).toFixed(2) + "亿" : v >= 1e4 ? (v / 1e4).toFixed(1) + "万" : Math.round(v).toString();
  }

  function figures(f) {
    var box = document.getElementById("forecast-figures");
    box.textContent = "";
    f.horizons.forEach(function (h, i) {
      var fig = el("div", "figure");
      fig.dataset.hours = h.hours;
      fig.appendChild(el("span", "n", String(h.expected)));
      fig.appendChild(el("span", "", h.hours >= 48 ? fmt(words.next_days, { d: h.hours / 24 }) : fmt(words.next, { h: h.hours })));
      fig.appendChild(el("span", "small interval", fmt(words.interval, { low: h.low, high: h.high })));
      var e = f.exposure[i];
      if (e && e.expected_fen !== null) {
        fig.appendChild(el("span", "small", fmt(words.exposure, { low: yuan(e.low_fen), high: yuan(e.high_fen) })));
      } else if (f.amounts_suppressed_below) {
        fig.appendChild(el("span", "small", words.exposure_hidden));
      }
      box.appendChild(fig);
    });
  }

  function chart(f) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var actual = f.actual.slice(-24), ahead = f.ahead;
    var n = actual.length + ahead.length;
    var max = 1;
    actual.forEach(function (a) { max = Math.max(max, a.count); });
    ahead.forEach(function (a) { max = Math.max(max, a.high); });
    var bw = (W - PAD_L - PAD_R) / Math.max(n, 1);
    function x(i) { return PAD_L + i * bw; }
    function y(v) { return PAD_T + (H - PAD_T - PAD_B) * (1 - v / max); }
    svg.appendChild(node("line", { x1: PAD_L, y1: y(0), x2: W - PAD_R, y2: y(0), stroke: "#8899aa", "stroke-width": 1 }));
    svg.appendChild(node("text", { x: PAD_L - 4, y: y(max) + 10, "text-anchor": "end", "font-size": 11, fill: "#8899aa" }, String(Math.round(max))));
    svg.appendChild(node("text", { x: PAD_L - 4, y: y(0), "text-anchor": "end", "font-size": 11, fill: "#8899aa" }, "0"));
    actual.forEach(function (a, i) {
      var bar = node("rect", { x: x(i) + 1, y: y(a.count), width: Math.max(bw - 2, 1), height: y(0) - y(a.count), fill: "#5b9bd5", "class": "actual" });
      bar.appendChild(node("title", {}, a.start + ": " + a.count));
      svg.appendChild(bar);
    });
    var off = actual.length;
    var upper = ahead.map(function (a, i) { return (x(off + i) + bw / 2).toFixed(1) + "," + y(a.high).toFixed(1); });
    var lower = ahead.map(function (a, i) { return (x(off + i) + bw / 2).toFixed(1) + "," + y(a.low).toFixed(1); }).reverse();
    var band = node("polygon", { points: upper.concat(lower).join(" "), fill: "#f2a33a", "fill-opacity": 0.3, stroke: "none", id: "forecast-band" });
    svg.appendChild(band);
    var line = ahead.map(function (a, i) { return (x(off + i) + bw / 2).toFixed(1) + "," + y(a.expected).toFixed(1); }).join(" ");
    svg.appendChild(node("polyline", { points: line, fill: "none", stroke: "#e07b00", "stroke-width": 2, id: "forecast-line" }));
    svg.appendChild(node("line", { x1: x(off), y1: PAD_T, x2: x(off), y2: y(0), stroke: "#d32f2f", "stroke-dasharray": "4 3" }));
    svg.appendChild(node("text", { x: x(off) + 3, y: H - 8, "font-size": 11, fill: "#d32f2f" }, words.now));
    panel.dataset.bandTop = ahead.length ? String(Math.max.apply(null, ahead.map(function (a) { return a.high; }))) : "0";
    panel.dataset.expected24 = String(f.horizons[0].expected);
  }

  function demands(f) {
    var box = document.getElementById("forecast-demands");
    box.textContent = "";
    if (!f.demands.people) return;
    box.appendChild(el("h3", "", fmt(words.demands, { n: f.demands.people })));
    var list = el("ul", "shares");
    f.demands.shares.forEach(function (s) {
      list.appendChild(el("li", "", (words.kinds[s.kind] || s.kind) + " " + Math.round(s.share * 100) + "%"));
    });
    box.appendChild(list);
  }

  function render(f) {
    figures(f);
    chart(f);
    demands(f);
    document.getElementById("forecast-legend").textContent = fmt(words.legend, { h: f.bin_hours, method: words[f.method] || f.method });
    panel.dataset.generatedAt = f.generated_at;
  }

  function load() {
    fetch(panel.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(render)
      .catch(function () { document.getElementById("forecast-legend").textContent = words.unavailable; })
      .then(function () { setTimeout(load, refresh); });
  }
  load();
})();
