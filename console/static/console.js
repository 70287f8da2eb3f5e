// Page actions without inline script: the Content-Security-Policy allows none
// (console/security.py). <a data-action="back"> goes back to the previous
// page (its href is where to go when there is none); <a data-action="print">
// prints the page; <button data-action="menu"> opens the phone's header menu.
document.addEventListener("click", function (event) {
  var target = event.target.closest ? event.target.closest("[data-action]") : null;
  if (!target) return;
  var action = target.getAttribute("data-action");
  if (action === "back" && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  } else if (action === "menu") {
    // the phone's header: the links fold into a menu (console.css, max-width 700px)
    var header = target.closest("header");
    var open = header.classList.toggle("open");
    target.setAttribute("aria-expanded", open ? "true" : "false");
  } else if (action === "print") {
    event.preventDefault();
    window.print();
  }
});

// Irreversible actions ask first: a form with data-confirm submits only when
// the person says yes to its question.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
}, true);

// On a phone a table reads as one card per row (console.css): each cell is
// labelled with its column's heading, copied here from the table's head.
document.addEventListener("DOMContentLoaded", function () {
  Array.prototype.forEach.call(document.querySelectorAll("table.grid:not(.matrix)"), function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    if (!heads.length) return;
    table.classList.add("cards");
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (tr) {
      var column = 0;
      Array.prototype.forEach.call(tr.children, function (cell) {
        if (heads[column] && !cell.hasAttribute("data-label") && (cell.colSpan || 1) === 1) cell.setAttribute("data-label", heads[column]);
        column += cell.colSpan || 1;
      });
    });
  });
});

// A table wider than the phone scrolls inside itself (console.css): make it
// reachable with the keyboard, as a scrollable region must be.
document.addEventListener("DOMContentLoaded", function () {
  Array.prototype.forEach.call(document.querySelectorAll("table.grid, .scroll"), function (box) {
    if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
  });
});
