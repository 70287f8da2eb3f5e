// Page actions without inline script: the Content-Security-Policy allows none
// (console/security.py). <a data-action="back"> goes back to the previous
// page (its href is where to go when there is none); <a data-action="print">
// prints the page.
document.addEventListener("click", function (event) {
  var target = event.target.closest ? event.target.closest("[data-action]") : null;
  if (!target) return;
  var action = target.getAttribute("data-action");
  if (action === "back" && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  } else if (action === "print") {
    event.preventDefault();
    window.print();
  }
});
