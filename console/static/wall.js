/* The wall screen turns its pages: a 1920×1080 screen read from five metres
 * holds the headline and two to four panels, not all eleven. Every panel is on
 * one page; the pages turn every WALL_PAGE_SECONDS, and the indicator says
 * which page of how many is shown. A pause button beside the dots stops the
 * turning until pressed again, and the pages also hold still while the pointer
 * is over the panels or the indicator (someone pointing at a figure). */
(function () {
  "use strict";
  var PAGES = [["matrix", "funnel"], ["chart-by-day"], ["forecast"], ["heat", "branches"], ["tasks", "tiers"], ["alerts", "feed"], ["figure-definitions"]];
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
  var paused = false;  // the pause button pressed
  var hovered = false;  // the pointer over the panels or the indicator
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
    var hold = document.createElement("button");
    hold.type = "button";
    hold.className = "pause";
    hold.textContent = paused ? "▶" : "❚❚";
    hold.setAttribute("aria-label", paused ? words.resume : words.pause);
    hold.setAttribute("aria-pressed", paused ? "true" : "false");
    indicator.appendChild(hold);
    indicator.hidden = false;
    document.body.dataset.wallPaused = paused ? "true" : "false";
    document.body.dataset.wallPage = String(current + 1);
    document.dispatchEvent(new CustomEvent("wall:page", { detail: { page: current + 1 } }));
  }
  document.body.classList.add("paged");
  // ?page=N keeps the wall on one page (a second screen beside the first)
  var pinned = parseInt(new URLSearchParams(window.location.search).get("page"), 10);
  show(pinned >= 1 && pinned <= pages.length ? pinned - 1 : 0);
  var timer = null;
  function turn() { timer = setInterval(function () { if (!paused && !hovered) show(current + 1); }, seconds * 1000); }
  function restart() { if (timer) { clearInterval(timer); turn(); } }
  if (!(pinned >= 1 && pinned <= pages.length)) turn();
  indicator.addEventListener("click", function (event) {
    var hold = event.target.closest("button.pause");
    if (hold) {
      paused = !paused;
      show(current);
      indicator.querySelector("button.pause").focus();  // the rebuilt button keeps the keyboard's place
      restart();  // on resume, a whole period before the next turn
      return;
    }
    var dot = event.target.closest("button.dot");
    if (!dot) return;
    show(parseInt(dot.dataset.page, 10) - 1);
    indicator.querySelector("button.dot[data-page='" + dot.dataset.page + "']").focus();
    restart();
  });
  [grid, indicator].forEach(function (zone) {
    zone.addEventListener("mouseenter", function () { hovered = true; document.body.dataset.wallHovered = "true"; });
    zone.addEventListener("mouseleave", function () { hovered = false; document.body.dataset.wallHovered = "false"; restart(); });
  });
})();
