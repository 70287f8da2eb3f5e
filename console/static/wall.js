/* The wall screen turns its pages: a 1920×1080 screen read from five metres
 * holds the headline and two to four panels, not all eleven. Every panel is on
 * one page; the pages turn every WALL_PAGE_SECONDS, and the indicator says
 * which page of how many is shown. */
(function () {
  "use strict";
  var PAGES = [["matrix", "funnel"], ["chart-by-day"], ["heat", "branches"], ["tasks", "tiers"], ["alerts", "feed"]];
  var indicator = document.getElementById("wall-pages");
  var grid = document.querySelector(".board-grid");
  if (!indicator || !grid) return;
  var words = JSON.parse(document.getElementById("wall-strings").textContent);
  var seconds = Math.max(3, parseInt(indicator.dataset.seconds, 10) || 15);
  var sections = Array.prototype.slice.call(grid.children);
  var pages = PAGES.map(function (ids) {
    return ids.map(function (id) { var node = document.getElementById(id); return node && node.closest("section"); }).filter(Boolean);
  });
  // a panel added later (another feature's) goes on the last page rather than nowhere
  sections.forEach(function (s) {
    if (!pages.some(function (p) { return p.indexOf(s) >= 0; })) pages[pages.length - 1].push(s);
  });
  var current = 0;
  function show(n) {
    current = n % pages.length;
    sections.forEach(function (s) { s.classList.toggle("on-page", pages[current].indexOf(s) >= 0); });
    indicator.replaceChildren();
    var label = document.createElement("span");
    label.textContent = words.page.replace("%(n)s", current + 1).replace("%(total)s", pages.length);
    indicator.appendChild(label);
    pages.forEach(function (page, i) {
      // a dot per page; pressing one shows that page now (the pages go on turning from there)
      var dot = document.createElement("button");
      dot.type = "button";
      dot.className = "dot" + (i === current ? " on" : "");
      dot.setAttribute("aria-label", words.page.replace("%(n)s", i + 1).replace("%(total)s", pages.length));
      dot.setAttribute("aria-pressed", i === current ? "true" : "false");
      dot.dataset.page = String(i + 1);
      dot.dataset.panels = page.map(function (s) { return Array.prototype.map.call(s.querySelectorAll("[id]"), function (n) { return n.id; }).join(" "); }).join(" ");
      indicator.appendChild(dot);
    });
    indicator.hidden = false;
    document.body.dataset.wallPage = String(current + 1);
    document.dispatchEvent(new CustomEvent("wall:page", { detail: { page: current + 1 } }));
  }
  document.body.classList.add("paged");
  // ?page=N keeps the wall on one page (a second screen beside the first)
  var pinned = parseInt(new URLSearchParams(window.location.search).get("page"), 10);
  show(pinned >= 1 && pinned <= pages.length ? pinned - 1 : 0);
  var timer = null;
  function turn() { timer = setInterval(function () { show(current + 1); }, seconds * 1000); }
  if (!(pinned >= 1 && pinned <= pages.length)) turn();
  indicator.addEventListener("click", function (event) {
    var dot = event.target.closest("button.dot");
    if (!dot) return;
    show(parseInt(dot.dataset.page, 10) - 1);
    if (timer) { clearInterval(timer); turn(); }
  });
})();
