/* The live board: a snapshot over Socket.IO, then the deltas of its room.
 * Protocol: docs/live-protocol.md. No framework, no CDN: served by the app. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("board-config").textContent);
  var words = JSON.parse(document.getElementById("board-strings").textContent);
  var variant = document.getElementById("board").dataset.variant;
  var state = null;          // the board as of state.seq
  var renderQueued = false;
  var FEED_MAX = 40;
  var STATUS_COLOURS = config.colours;  // console/vocabulary.py STATUS_COLOURS
  var ZONE = config.timezone;           // the console's TIMEZONE setting
  var ORDER = config.funnel.concat(config.side_states);

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "style") node.style.cssText = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  function localTime(iso) {
    if (!iso) return "—";
    // the pages' one format (YYYY-MM-DD HH:MM, the console's time zone), whatever the browser's language
    var parts = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, hour12: false, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" })
      .formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " + (parts.hour === "24" ? "00" : parts.hour) + ":" + parts.minute;
  }
  function localDay(iso) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }
  function drill(params) {
    if (!config.drill_url) return null;
    var q = Object.keys(params).filter(function (k) { return params[k] !== null && params[k] !== undefined && params[k] !== ""; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
    return config.drill_url + (q ? "?" + q : "");
  }
  function linked(text, href, attrs) {
    // A number, as a link to the filtered list where the viewer may see people.
    var box = el("span", attrs || {});
    if (href) { var a = el("a", {}, text); a.href = href; box.appendChild(a); } else box.textContent = String(text);
    return box;
  }

  // ---- state ---------------------------------------------------------------
  function key(g, p, s) { return (g === null || g === undefined ? "" : g) + "|" + p + "|" + s; }

  // The server's clock, not the browser's: in a drill the console runs on a
  // moved clock (CLOCK_FILE), and countdowns must agree with its monitors.
  var clockOffset = 0;
  function serverNow() { return Date.now() + clockOffset; }

  function load(snapshot) {
    if (snapshot.generated_at) clockOffset = new Date(snapshot.generated_at) - Date.now();
    var counts = {};
    snapshot.counts.forEach(function (c) { counts[key(c.group_id, c.province_code, c.status)] = c.count; });
    var groups = {};
    snapshot.groups.forEach(function (g) { groups[g.id] = g.name; });
    state = {
      seq: snapshot.seq, room: snapshot.room, incident: snapshot.incident, counts: counts, groups: groups,
      newLastHour: snapshot.new_last_hour, onSite: snapshot.on_site,
      overdueContact: snapshot.overdue_contact, overdueDecision: snapshot.overdue_decision,
      overdueFirstResponse: snapshot.overdue_first_response, overdueSupervisor: snapshot.overdue_supervisor,
      feed: snapshot.feed.slice(0, FEED_MAX), lastChange: snapshot.last_change_at,
      branches: {}, alerts: snapshot.alerts.slice(), massIncidentAt: snapshot.mass_incident_at, tasks: {},
      tiers: snapshot.tiers || [], requests: (snapshot.requests || []).slice(),
      charts: snapshot.charts || { by_day: { days: [], received: [], settled: [] }, on_site: [] }
    };
    snapshot.tasks.forEach(function (t) { state.tasks[t.id] = t; });
    snapshot.branches.forEach(function (b) { state.branches[b.branch_code] = b; });
    queueRender();
  }

  function apply(event) {
    (event.counts || []).forEach(function (c) {
      var k = key(c.group_id, c.province_code, c.status);
      state.counts[k] = (state.counts[k] || 0) + c.delta;
      if (state.counts[k] <= 0) delete state.counts[k];
    });
    if (event.name === "complainants_added") state.newLastHour += (event.added || 0);
    if (event.incident) {
      state.incident = Object.assign({}, state.incident, event.incident);
      if (event.incident.mass_incident_at) state.massIncidentAt = event.incident.mass_incident_at;
    }
    if (event.update) {
      var u = event.update, known = state.branches[u.branch_code];
      state.branches[u.branch_code] = Object.assign({ branch_code: u.branch_code, province_code: u.province_code, name: u.branch_name || u.branch_code }, known || {}, { update: u, missed: 0 });
    }
    if (event.alert) addAlert(event.alert);
    if (event.name === "update_posted" && event.update.needs && event.update.needs.trim()) {
      state.requests = state.requests.filter(function (r) { return r.id !== event.update.id; });
      state.requests.unshift(Object.assign({ incident_id: config.incident_id, needs_handled_at: null }, event.update));
    }
    if (event.update) {  // the people-on-site chart: one more point for the outlet
      var line = state.charts.on_site.filter(function (s) { return s.branch_code === event.update.branch_code; })[0];
      if (!line) { line = { branch_code: event.update.branch_code, name: event.update.branch_name || event.update.branch_code, points: [] }; state.charts.on_site.push(line); }
      line.points.push([event.update.posted_at, event.update.people_on_site]);
    }
    var byDay = state.charts.by_day, last = byDay.days.length - 1;
    if (last >= 0 && byDay.days[last] === localDay(event.at)) {  // today's bars move with the counts
      if (event.name === "complainants_added") byDay.received[last] += (event.added || 0);
      (event.counts || []).forEach(function (c) { if (c.status === "settled" && c.delta > 0) byDay.settled[last] += c.delta; });
    }
    if (event.name === "request_handled") {
      state.requests.forEach(function (r) {
        if (r.id === event.request.id) { r.needs_handled_at = event.request.needs_handled_at; r.handled_by = event.request.handled_by; }
      });
    }
    (event.tasks || []).forEach(function (t) { state.tasks[t.id] = Object.assign(state.tasks[t.id] || {}, t); });
    if (event.group) state.groups[event.group.id] = event.group.name;
    if (event.name === "settlement_updated" && event.tier_id) {
      state.tiers.forEach(function (g) {
        g.tiers.forEach(function (t) { if (t.id === event.tier_id) t.accepted = Math.max(0, t.accepted + event.delta); });
      });
    }
    state.feed.unshift(event);
    state.feed.length = Math.min(state.feed.length, FEED_MAX);
    state.seq = event.seq;
    state.lastChange = event.at;
    queueRender();
  }

  function addAlert(alert) {
    if (state.alerts.some(function (a) { return a.id === alert.id; })) return;
    state.alerts.unshift(alert);
    state.alerts.length = Math.min(state.alerts.length, 15);
  }

  // ---- socket --------------------------------------------------------------
  var socket = io({ transports: ["websocket", "polling"], reconnectionDelayMax: 5000 });
  var joining = false;
  var queueDown = false;     // the server lost its message queue: changes made elsewhere may not reach us

  function setLive(name) {
    var node = $("live-state");
    node.className = "state-" + name;
    node.textContent = words[name];
    document.body.dataset.live = name;
  }
  var joinAgain = false;     // asked to join while a join was under way: its snapshot may be older than the ask
  function join() {
    if (joining) { joinAgain = true; return; }
    joining = true;
    socket.timeout(10000).emit("join_incident", { incident_id: config.incident_id }, function (err, answer) {
      joining = false;
      if (joinAgain) { joinAgain = false; join(); return; }
      if (err || !answer || answer.error) { setLive("reconnecting"); setTimeout(join, 2000); return; }
      load(answer.snapshot);
      setLive(queueDown ? "behind" : "live");
    });
  }
  socket.on("connect", join);
  socket.on("disconnect", function (reason) {
    // The server dropped us: the session or token ended (logged out, idle,
    // deactivated). Clear the board and reload: the page asks for a log-in.
    if (reason === "io server disconnect") { document.body.textContent = ""; window.location.reload(); return; }
    setLive("reconnecting");
  });
  socket.io.on("reconnect_attempt", function () { setLive("reconnecting"); });
  socket.on("connect_error", function () { setLive("reconnecting"); });
  // The server's message queue (Redis, between server processes) dropped out:
  // say so until it is back, then take a fresh snapshot (docs/live-protocol.md).
  socket.on("live_queue_lost", function () { queueDown = true; if (state) setLive("behind"); });
  socket.on("live_queue_restored", function () { queueDown = false; join(); });
  config.events.forEach(function (name) {
    socket.on(name, function (event) {
      if (!state) return;
      if (event.room !== state.room) {   // the role's alert room: alerts of any incident
        if (event.alert) { addAlert(Object.assign({ other_incident: event.incident_id !== config.incident_id ? event.incident_id : null }, event.alert)); queueRender(); }
        return;
      }
      if (event.seq <= state.seq) return;              // already in the snapshot
      if (event.seq !== state.seq + 1) { join(); return; }  // a gap: fetch a fresh snapshot
      apply(event);
    });
  });
  // Time-based numbers (new in the last hour, overdue) move without events.
  setInterval(function () { if (socket.connected) join(); }, 60000);

  // ---- rendering -----------------------------------------------------------
  function queueRender() {
    if (renderQueued) return;
    renderQueued = true;
    (window.requestAnimationFrame || setTimeout)(function () { renderQueued = false; render(); });
  }

  function totals() {
    var byStatus = {}, byGroup = {}, byProvince = {}, cells = {}, total = 0;
    Object.keys(state.counts).forEach(function (k) {
      var parts = k.split("|"), n = state.counts[k];
      var g = parts[0], p = parts[1], s = parts[2];
      total += n;
      byStatus[s] = (byStatus[s] || 0) + n;
      byGroup[g] = (byGroup[g] || 0) + n;
      byProvince[p] = (byProvince[p] || 0) + n;
      var cell = cells[g + "|" + p] || (cells[g + "|" + p] = { n: 0, status: {} });
      cell.n += n;
      cell.status[s] = (cell.status[s] || 0) + n;
    });
    return { total: total, byStatus: byStatus, byGroup: byGroup, byProvince: byProvince, cells: cells };
  }

  function mixBackground(statusCounts, n) {
    var stops = [], at = 0;
    ORDER.forEach(function (s) {
      if (!statusCounts[s]) return;
      var width = statusCounts[s] / n * 100;
      stops.push(STATUS_COLOURS[s] + " " + at.toFixed(1) + "% " + (at + width).toFixed(1) + "%");
      at += width;
    });
    return "linear-gradient(90deg," + stops.join(",") + ")";
  }

  function renderHeadline(t) {
    $("total").replaceChildren(linked(t.total, drill({})).firstChild);
    $("new-last-hour").textContent = state.newLastHour;
    $("settled").replaceChildren(linked(t.byStatus.settled || 0, drill({ status: "settled" })).firstChild);
    $("escalated").replaceChildren(linked(t.byStatus.escalated || 0, drill({ status: "escalated" })).firstChild);
    var onSite = 0;
    Object.keys(state.branches).forEach(function (code) { var u = state.branches[code].update; if (u) onSite += u.people_on_site; });
    $("on-site").textContent = onSite;
    var mass = $("mass-incident");
    if (mass) { mass.hidden = !state.massIncidentAt; mass.textContent = state.massIncidentAt ? words.mass_incident + " · " + localTime(state.massIncidentAt) : ""; }
    $("incident-title").textContent = state.incident.title;
    var badge = $("incident-status");
    badge.textContent = config.incident_statuses[state.incident.status] || state.incident.status;
    badge.className = "badge st-" + state.incident.status;
    $("last-change").textContent = localTime(state.lastChange);
  }

  function renderMatrix(t) {
    var provinces = Object.keys(t.byProvince).sort();
    var groupIds = Object.keys(t.byGroup).sort(function (a, b) { return (a === "" ? 1e12 : +a) - (b === "" ? 1e12 : +b); });
    var table = el("table", { "class": "grid matrix" });
    var head = el("tr");
    head.appendChild(el("th", {}, ""));
    provinces.forEach(function (p) { head.appendChild(el("th", {}, config.provinces[p] || p)); });
    head.appendChild(el("th", {}, words.total));
    table.appendChild(el("thead")).appendChild(head);
    var body = el("tbody");
    groupIds.forEach(function (g) {
      var tr = el("tr");
      tr.appendChild(el("th", {}, g === "" ? words.no_group : (state.groups[g] || g)));
      provinces.forEach(function (p) {
        var cell = t.cells[g + "|" + p], td = el("td", { "class": "cell" });
        if (cell) {
          td.style.backgroundImage = mixBackground(cell.status, cell.n);
          td.title = ORDER.filter(function (s) { return cell.status[s]; })
            .map(function (s) { return config.statuses[s] + " " + cell.status[s]; }).join(" · ");
          td.appendChild(linked(cell.n, drill({ group_id: g, province_code: p }), { "class": "pill" }));
        }
        tr.appendChild(td);
      });
      tr.appendChild(el("td", { "class": "num" }, t.byGroup[g]));
      body.appendChild(tr);
    });
    table.appendChild(body);
    $("matrix").replaceChildren(table);
    var legend = $("matrix-legend");
    legend.replaceChildren();
    ORDER.forEach(function (s) {
      var item = el("span", { "class": "key" });
      item.appendChild(el("i", { style: "background:" + STATUS_COLOURS[s] }));
      item.appendChild(document.createTextNode(config.statuses[s]));
      legend.appendChild(item);
    });
  }

  function renderFunnel(t) {
    var max = Math.max.apply(null, ORDER.map(function (s) { return t.byStatus[s] || 0; }).concat([1]));
    var box = $("funnel");
    box.replaceChildren();
    ORDER.forEach(function (s) {
      var n = t.byStatus[s] || 0, row = el("div", { "class": "bar-row", "data-status": s });
      row.appendChild(el("span", { "class": "bar-label" }, config.statuses[s]));
      var track = el("span", { "class": "bar-track" });
      track.appendChild(el("span", { "class": "bar", style: "width:" + (n / max * 100).toFixed(1) + "%;background:" + STATUS_COLOURS[s] }));
      row.appendChild(track);
      row.appendChild(linked(n, drill({ status: s }), { "class": "bar-n" }));
      box.appendChild(row);
    });
  }

  function renderHeat(t) {
    var max = Math.max.apply(null, Object.keys(t.byProvince).map(function (p) { return t.byProvince[p]; }).concat([1]));
    var box = $("heat");
    box.replaceChildren();
    config.grid.forEach(function (tile) {
      var n = t.byProvince[tile.code] || 0;
      // light enough that the ink stays readable on it (4.5:1): the darkest tile is a mid red
      var alpha = n ? 0.12 + 0.38 * n / max : 0;
      var node = el("div", {
        "class": "tile" + (n ? " has" : ""), "data-province": tile.code,
        style: "grid-row:" + (tile.row + 1) + ";grid-column:" + (tile.col + 1) + ";background:rgba(198,40,40," + alpha.toFixed(2) + ")"
      });
      var name = (config.provinces[tile.code] || tile.code).replace(/(省|市|自治区|特别行政区|壮族|回族|维吾尔)/g, "");
      node.appendChild(el("span", { "class": "tile-name" }, name));
      node.appendChild(linked(n || "", n ? drill({ province_code: tile.code }) : null, { "class": "tile-n" }));
      node.title = (config.provinces[tile.code] || tile.code) + ": " + n;
      box.appendChild(node);
    });
  }

  function renderOverdue(listId, countId, overdue) {
    if (!overdue) return;
    if ($(countId)) $(countId).textContent = overdue.count;
    var list = $(listId);
    if (!list) return;
    list.replaceChildren();
    if (!overdue.items || !overdue.items.length) { list.appendChild(el("li", { "class": "none" }, words.nothing_overdue)); return; }
    overdue.items.forEach(function (item) {
      var li = el("li");
      li.appendChild(linked(item.name, config.complainant_url ? config.complainant_url + "/" + item.id : null));
      li.appendChild(el("span", { "class": "where" }, " " + (config.places[item.province_code] || config.provinces[item.province_code] || "") + " " + (config.places[item.branch_code] || (config.branch_names || {})[item.branch_code] || item.branch_code || "")));
      li.appendChild(el("time", {}, localTime(item.due_at)));
      list.appendChild(li);
    });
    if (overdue.count > overdue.items.length) list.appendChild(el("li", { "class": "none" }, fmt(words.more, { n: overdue.count - overdue.items.length })));
  }

  // What an update says, in words: people, mood, and what is on site.
  function updateFacts(u) {
    var facts = [fmt(words.on_site, { n: u.people_on_site })];
    if (u.mood && config.moods[u.mood]) facts.push(config.moods[u.mood]);
    if (u.banners) facts.push(words.banners);
    if (u.media_present) facts.push(words.media);
    if (u.police_present) facts.push(words.police);
    if (u.outlet_closed) facts.push(words.closed);
    return facts;
  }

  function describe(event) {
    var who = event.complainant;
    var places = {};
    (event.counts || []).forEach(function (c) { if (c.delta > 0) places[c.province_code] = true; });
    if (!Object.keys(places).length) (event.province_codes || []).forEach(function (p) { places[p] = true; });
    var where = Object.keys(places).map(function (p) { return config.provinces[p] || p; }).join("、");
    switch (event.name) {
      case "complainants_added":
        return fmt(words.added, { n: event.added }) + (where ? " " + words.in + " " + where : "");
      case "complainant_updated":
      case "contact_logged":
        var moved = (event.counts || []).filter(function (c) { return c.delta > 0; })[0];
        var subject = who ? who.name : where;
        if (event.name === "contact_logged" && !moved) return subject + " · " + words.contact_logged;
        var status = moved ? moved.status : (who ? who.status : "");
        var text = config.statuses[status] || status;
        if (status === "escalated" && who && who.escalation_channel) text += " (" + config.channels[who.escalation_channel] + ")";
        return (subject || "") + " → " + text;
      case "incident_updated":
        return words.incident_updated + ": " + (config.incident_statuses[event.incident.status] || event.incident.status);
      case "group_updated":
        return words.group_updated + ": " + event.group.name;
      case "update_posted":
        return [event.update.branch_name || event.update.branch_code].concat(updateFacts(event.update)).join(" · ") +
          (event.update.needs ? " · " + words.needs + ": " + event.update.needs : "");
      case "request_handled":
        return "✔ " + fmt(words.request_handled, { branch: event.request.branch_name || event.request.branch_code, who: event.request.handled_by || "" });
      case "alert_raised":
        return "⚠ " + event.alert.message;
      case "task_updated":
        // many tasks of one kind (a follow-up per settlement) read as one line with a count
        var seen = {}, lines = [];
        (event.tasks || []).forEach(function (t) {
          var line = (t.status === "done" ? "✔ " : "+ ") + t.title.split(" · #")[0];
          if (seen[line]) seen[line].n += 1; else { seen[line] = { n: 1 }; lines.push(line); }
        });
        return lines.map(function (line) { return line + (seen[line].n > 1 ? " ×" + seen[line].n : ""); }).join("; ");
      case "settlement_updated":
        var tierName = "";
        state.tiers.forEach(function (g) { g.tiers.forEach(function (t) { if (t.id === event.tier_id) tierName = t.name; }); });
        return (who ? who.name : where) + " · " + (event.stage === "withdrawn" ? words.acceptance_withdrawn : words.settlement_accepted) +
          (tierName ? " (" + tierName + ")" : "");
      case "referral_updated":
        return "→ " + event.referral.recipient + ": " + event.referral.what_sent + (event.referral.acknowledged_at ? " ✔" : "");
      case "rollup_updated":
        return words.rollup_updated + (event.rollup && config.rollup_statuses[event.rollup.status] ? ": " + config.rollup_statuses[event.rollup.status] : "");
      default:
        return words.event_names[event.name] || words.something_changed;
    }
  }

  function renderFeed() {
    var list = $("feed");
    list.replaceChildren();
    state.feed.forEach(function (event) {
      var li = el("li", { "class": "ev-" + event.name });
      li.appendChild(el("time", {}, localTime(event.at)));
      li.appendChild(el("span", {}, describe(event)));
      list.appendChild(li);
    });
  }

  function renderBranches() {
    var list = $("branches");
    if (!list) return;
    list.replaceChildren();
    var codes = Object.keys(state.branches).sort(function (a, b) {
      return (isOwn(b) - isOwn(a)) || (state.branches[b].missed || 0) - (state.branches[a].missed || 0) || (a < b ? -1 : 1);
    });
    if (!codes.length) { list.appendChild(el("li", { "class": "none" }, words.no_reports)); return; }
    codes.forEach(function (code) {
      var b = state.branches[code], u = b.update;
      var li = el("li", { "class": "branch" + (b.missed ? " missed" : "") + (u && u.mood ? " mood-" + u.mood : "") + (isOwn(code) ? " own" : ""), "data-branch": code });
      li.appendChild(el("span", { "class": "branch-name" }, b.name || code));
      li.appendChild(el("span", { "class": "people" }, u ? fmt(words.on_site, { n: u.people_on_site }) : "—"));
      var flags = [];
      if (u && u.mood && u.mood !== "calm" && config.moods[u.mood]) flags.push(config.moods[u.mood]);
      if (u && u.banners) flags.push(words.banners);
      if (u && u.media_present) flags.push(words.media);
      if (u && u.police_present) flags.push(words.police);
      if (u && u.outlet_closed) flags.push(words.closed);
      li.appendChild(el("span", { "class": "flags" }, flags.join(" · ")));
      li.appendChild(el("span", { "class": "when" }, b.missed ? words.missed : (u ? localTime(u.posted_at) : "")));
      list.appendChild(li);
    });
  }

  // A branch contact's own outlet comes first on their board (their phone shows it on top).
  function isOwn(code) {
    return config.scope_kind === "branch" && config.scope_code === code ? 1 : 0;
  }

  // Requests from branches (the "needs" of their updates): open ones first,
  // each with a button for the crisis team to mark it handled (a form POST:
  // the server audits it and tells every board).
  function renderRequests() {
    var list = $("requests");
    if (!list) return;
    list.replaceChildren();
    var open = state.requests.filter(function (r) { return !r.needs_handled_at; });
    var handled = state.requests.filter(function (r) { return r.needs_handled_at; }).slice(0, 10);
    if ($("requests-open")) $("requests-open").textContent = open.length;
    if (!open.length && !handled.length) { list.appendChild(el("li", { "class": "none" }, words.no_requests)); return; }
    open.sort(function (a, b) { return a.posted_at < b.posted_at ? -1 : 1; }).concat(handled).forEach(function (r) {
      var li = el("li", { "class": "request" + (r.needs_handled_at ? " handled" : " open"), "data-request": r.id, "data-branch": r.branch_code });
      var head = el("div", { "class": "request-head" });
      head.appendChild(el("strong", {}, r.branch_name || r.branch_code));
      head.appendChild(el("time", {}, localTime(r.posted_at)));
      li.appendChild(head);
      li.appendChild(el("p", { "class": "request-needs" }, r.needs));
      li.appendChild(el("p", { "class": "request-facts" }, updateFacts(r).join(" · ")));
      if (r.needs_handled_at) {
        li.appendChild(el("p", { "class": "request-done" }, fmt(words.handled_at, { when: localTime(r.needs_handled_at), who: r.handled_by || "" })));
      } else if (config.handle_url) {
        var form = el("form", { method: "post", action: config.handle_url.replace("/0/", "/" + r.id + "/"), "class": "confirm", "data-confirm": words.confirm_handled });
        form.appendChild(el("input", { type: "hidden", name: "csrf_token", value: config.csrf_token }));
        form.appendChild(el("input", { type: "hidden", name: "incident_id", value: config.incident_id }));
        form.appendChild(el("button", { type: "submit", "class": "handle" }, words.mark_handled));
        li.appendChild(form);
      }
      list.appendChild(li);
    });
  }

  function renderAlerts() {
    var list = $("alerts");
    if (!list) return;
    list.replaceChildren();
    if (!state.alerts.length) { list.appendChild(el("li", { "class": "none" }, words.no_alerts)); return; }
    state.alerts.forEach(function (a) {
      var li = el("li", { "class": "alert-" + a.level });
      li.appendChild(el("time", {}, localTime(a.raised_at)));
      li.appendChild(el("span", {}, (a.other_incident ? "#" + a.other_incident + " · " : "") + (config.alert_levels[a.level] ? config.alert_levels[a.level] + " · " : "") + a.message));
      list.appendChild(li);
    });
  }

  function countdown(dueIso) {
    var minutes = Math.round((new Date(dueIso) - serverNow()) / 60000);
    var m = Math.abs(minutes);
    var text = m >= 1440 ? fmt(words.days_hours, { d: Math.floor(m / 1440), h: Math.floor(m % 1440 / 60) })
      : fmt(words.hours_minutes, { h: Math.floor(m / 60), m: m % 60 });
    return fmt(minutes < 0 ? words.overdue_by : words.due_in, { t: text });
  }

  function renderTasks() {
    var list = $("tasks");
    if (!list) return;
    var all = Object.keys(state.tasks).map(function (id) { return state.tasks[id]; });
    var open = all.filter(function (t) { return t.status === "open"; }).sort(function (a, b) { return a.due_at < b.due_at ? -1 : 1; });
    var done = all.filter(function (t) { return t.status === "done"; }).sort(function (a, b) { return a.completed_at < b.completed_at ? 1 : -1; }).slice(0, 5);
    $("tasks-open").textContent = open.length;
    list.replaceChildren();
    if (!open.length && !done.length) { list.appendChild(el("li", { "class": "none" }, words.no_tasks)); return; }
    open.slice(0, 30).concat(done).forEach(function (t) {
      var late = t.status === "open" && new Date(t.due_at) <= serverNow();
      var li = el("li", { "class": "task-" + t.status + (late ? " late" : ""), "data-task": t.key, "data-task-id": t.id });
      li.appendChild(el("span", { "class": "title" }, t.title));
      li.appendChild(el("span", { "class": "countdown" }, t.status === "done" ? words.done : countdown(t.due_at)));
      list.appendChild(li);
    });
  }
  setInterval(function () { if (state) renderTasks(); }, 30000);  // countdowns move with the clock

  function renderTiers() {
    var box = $("tiers");
    if (!box) return;
    box.replaceChildren();
    if (!state.tiers.length) { box.appendChild(el("p", { "class": "none" }, words.no_tiers)); return; }
    state.tiers.forEach(function (g) {
      var table = el("table", { "class": "tiers", "data-group": g.group_id });
      var caption = el("caption", {}, g.name + (g.current ? " · " + fmt(words.tier_days_left, { name: g.current.name, n: g.current.days_left }) : " · " + words.no_current_tier));
      table.appendChild(caption);
      g.tiers.forEach(function (t) {
        var tr = el("tr", { "class": g.current && g.current.id === t.id ? "current" : "", "data-tier": t.id });
        tr.appendChild(el("th", {}, t.name));
        tr.appendChild(el("td", { "class": "when" }, t.starts_on + " – " + t.ends_on));
        tr.appendChild(el("td", { "class": "n", "data-testid": "tier-accepted" }, String(t.accepted)));
        table.appendChild(tr);
      });
      box.appendChild(table);
    });
  }

  function render() {
    if (!state) return;
    var t = totals();
    renderHeadline(t);
    renderMatrix(t);
    renderFunnel(t);
    renderHeat(t);
    renderOverdue("overdue-contact", "overdue-contact-count", state.overdueContact);
    renderOverdue("overdue-decision", "overdue-decision-count", state.overdueDecision);
    renderOverdue("overdue-first-response", "overdue-first-response-count", state.overdueFirstResponse);
    renderOverdue("overdue-supervisor", "overdue-supervisor-count", state.overdueSupervisor);
    renderFeed();
    renderBranches();
    renderAlerts();
    renderRequests();
    renderTasks();
    renderTiers();
    document.body.dataset.seq = state.seq;
    // The hook for panels drawn by other scripts (charts.js; a forecast band):
    // the board as of this sequence number, and the totals its numbers show.
    document.dispatchEvent(new CustomEvent("board:rendered", { detail: { state: state, totals: t, config: config, order: ORDER, colours: STATUS_COLOURS } }));
  }
})();
