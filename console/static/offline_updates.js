// Hourly updates that could not be sent (no network at the outlet) are kept
// in this browser (localStorage) and sent again, with the same idempotency
// key, when the network is back or the next page opens: the server stores
// each update once however often it arrives (console/idempotency.py).
(function () {
  "use strict";
  var KEY = "console.pendingUpdates";

  function pending() {
    try { return JSON.parse(window.localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(list) { window.localStorage.setItem(KEY, JSON.stringify(list)); }
  function words() {
    var node = document.getElementById("offline-strings");
    if (node) {
      try { window.localStorage.setItem(KEY + ".words", node.textContent); } catch (e) { /* full: the defaults below */ }
      return JSON.parse(node.textContent);
    }
    try { return JSON.parse(window.localStorage.getItem(KEY + ".words")) || {}; } catch (e) { return {}; }
  }
  function say(text, kind) {
    if (!text) return;
    var box = document.getElementById("offline-note");
    if (!box) {
      box = document.createElement("p");
      box.id = "offline-note";
      box.setAttribute("role", "status");
      var main = document.querySelector("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    box.className = "flash offline-" + kind;
    box.textContent = text;
  }

  function post(item) {
    return fetch(item.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": item.key },
      body: item.body
    });
  }

  var sending = false;
  function resend() {
    var list = pending();
    if (!list.length || sending) return;
    sending = true;
    var item = list[0];
    post(item).then(function (response) {
      sending = false;
      var rest = pending().filter(function (p) { return p.key !== item.key; });
      save(rest);
      // stored (or already stored: the same key): the server redirects to the branch's timeline;
      // refused (422, the incident closed meanwhile): nothing more to do with it here
      var w = words();
      say(response.redirected || response.ok ? w.resent : w.refused, response.redirected || response.ok ? "ok" : "error");
      if (rest.length) resend();
    }, function () {
      sending = false;  // still no network: wait for the next "online"
      say(words().waiting, "waiting");
    });
  }

  // The update form: send it ourselves, so a failed send can be kept.
  var form = document.getElementById("update-form");
  if (form && window.fetch && window.localStorage) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.native) return;  // a second, ordinary submit (see below)
      event.preventDefault();
      var body = new URLSearchParams(new FormData(form)).toString();
      var item = { url: form.action || window.location.href, key: form.elements.idempotency_key.value, body: body, at: new Date().toISOString() };
      post(item).then(function (response) {
        if (response.redirected) { window.location.href = response.url; return; }
        // not stored (the form has a problem): submit it the ordinary way, which shows what to correct
        form.dataset.native = "1";
        form.submit();
      }, function () {
        var list = pending().filter(function (p) { return p.key !== item.key; });
        list.push(item);
        save(list);
        say(words().kept, "waiting");
      });
    });
  }
  if (window.localStorage) {
    words();
    window.addEventListener("online", resend);
    if (pending().length) resend();
  }
})();
