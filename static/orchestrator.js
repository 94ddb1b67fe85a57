/* orchestrator — the dashboard's only script. No build step: htmx (+ its ws extension) does
   the requests and swaps; this file wires the page's behaviour around them.

   Live updates: the page's websocket (#live, htmx ws extension) receives two kinds of
   message from dagruns/consumers.py:
   - HTML: out-of-band fragments (grid cells, graph nodes) that htmx swaps in place;
   - JSON: {"events": [...]} — "this changed" — which refresh every region whose
     data-live-* filters match (the region re-fetches itself with hx-trigger="orch:refresh").
   When the socket reconnects, every region refreshes (catching up on what was missed); while
   the socket is down, regions showing an active run are polled slowly. */
(function () {
  "use strict";

  var state = { opened: 0, socketOpen: false, lastRefresh: 0, logPending: {}, pending: {} };
  window.orchLive = state;

  // The ws extension's default backoff is exponential with full jitter (up to 64 s): after a
  // server restart a page could sit stale for half a minute. Retry at 1, 2, 3… seconds, never
  // more than 5 apart, so a page is live again within seconds of the server coming back.
  if (window.htmx) {
    htmx.config.wsReconnectDelay = function (retryCount) {
      return Math.min(1000 * Math.max(1, retryCount), 5000);
    };
  }

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  /* --- sizes and positions ---------------------------------------------------------------
     The Content-Security-Policy forbids style="…" attributes. Templates put computed sizes
     and positions (bar heights, gantt offsets, a log chunk's first line number) in
     data-style="prop: value; …" instead, applied here through the CSSOM, which the policy
     allows, on load and to whatever htmx or the websocket swaps in later. */
  function applyStyles(root) {
    var els = root.matches && root.matches("[data-style]") ? [root] : [];
    if (root.querySelectorAll) els = els.concat($all("[data-style]", root));
    els.forEach(function (el) {
      el.getAttribute("data-style").split(";").forEach(function (decl) {
        var i = decl.indexOf(":");
        if (i > 0) el.style.setProperty(decl.slice(0, i).trim(), decl.slice(i + 1).trim());
      });
    });
  }
  applyStyles(document);
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      for (var i = 0; i < r.addedNodes.length; i++) {
        if (r.addedNodes[i].nodeType === 1) applyStyles(r.addedNodes[i]);
      }
    });
  }).observe(document.documentElement, { childList: true, subtree: true });

  // Every htmx request carries the CSRF token (attributes are not inherited on this site:
  // each element says where its response goes).
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector("meta[name='csrf-token']");
    if (meta) e.detail.headers["X-CSRFToken"] = meta.content;
  });

  /* --- theme ------------------------------------------------------------------------------ */
  function setTheme(theme) {
    if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
    try { localStorage.setItem("orch-theme", theme || "system"); } catch (e) { /* private mode */ }
    showTheme();
  }
  // The toggle says which mode is active (and what a click changes it to).
  var THEMES = { system: ["◐", "light"], light: ["☀", "dark"], dark: ["☾", "system"] };
  function showTheme() {
    var btn = $("#theme-toggle"); if (!btn) return;
    var now = document.documentElement.dataset.theme || "system";
    btn.textContent = THEMES[now][0];
    btn.dataset.themeActive = now;
    btn.title = "Theme: " + now + (now === "system" ? " (follows your system)" : "") + " — click for " + THEMES[now][1];
    btn.setAttribute("aria-label", "Theme: " + now);
  }

  /* --- timezone selector -----------------------------------------------------------------
     The server renders every date in the chosen zone (a cookie the header's form sets); the
     browser only knows its own zone and the list of zone names, filled in here. */
  function initTimezoneMenu() {
    var menu = $("#tz-menu"); if (!menu) return;
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* old browser */ }
    var browserBtn = $("[data-browser-zone]", menu);
    if (browserBtn && zone) {
      browserBtn.value = zone;
      browserBtn.textContent = "Browser (" + zone + ")";
      browserBtn.hidden = false;
    }
    menu.addEventListener("toggle", function () {
      var list = $("#tz-names", menu);
      if (!menu.open || !list || list.dataset.filled) return;
      var names = [];
      try { names = Intl.supportedValuesOf("timeZone"); } catch (e) { /* no list: typing still works */ }
      var frag = document.createDocumentFragment();
      names.forEach(function (name) {
        if (name === "UTC") return;
        var opt = document.createElement("option"); opt.value = name; frag.appendChild(opt);
      });
      list.appendChild(frag);
      list.dataset.filled = "1";
      var input = $("#tz-input", menu); if (input) input.focus();
    });
    // A click elsewhere or Escape closes it, as a menu does.
    document.addEventListener("click", function (e) {
      if (menu.open && !menu.contains(e.target)) menu.open = false;
    });
    menu.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.open) { menu.open = false; $("summary", menu).focus(); }
    });
  }

  /* --- live regions ----------------------------------------------------------------------- */
  function matches(region, ev) {
    var d = region.dataset;
    var kinds = (d.liveKinds || "").split(/\s+/);
    if (kinds.indexOf(ev.kind) < 0) return false;
    if (d.liveRunId !== undefined && ev.run_id && d.liveRunId !== ev.run_id) return false;
    if (d.liveTaskId !== undefined && ev.task_id && d.liveTaskId !== ev.task_id) return false;
    if (d.liveTry !== undefined && ev.try_number != null && String(ev.try_number) !== d.liveTry) return false;
    if (d.liveMinTry !== undefined && (ev.try_number == null || ev.try_number < Number(d.liveMinTry))) return false;
    return true;
  }

  function refresh(region) {
    var name = region.dataset.liveEvent || "orch:refresh";
    if (name === "orch:log") return tailLog(region);
    // One request at a time per region: a refresh due while one is in flight runs when the
    // new region has loaded (htmx:load below). Aborting the old request instead (hx-sync
    // "replace") logged htmx:afterRequest/htmx:sendAbort console errors on every busy update.
    if (region.id && region.classList.contains("htmx-request")) { state.pending[region.id] = true; return; }
    htmx.trigger(region, name);
  }

  function refreshAll() {
    state.lastRefresh = Date.now();
    $all("[data-live]").forEach(refresh);
  }

  function onEvents(events) {
    var due = [];
    $all("[data-live]").forEach(function (region) {
      for (var i = 0; i < events.length; i++) {
        if (matches(region, events[i])) { due.push(region); return; }
      }
    });
    due.forEach(refresh);
  }

  function tailLog(tail) {
    if (tail.classList.contains("htmx-request")) { state.logPending[tail.id] = true; return; }
    var body = tail.closest(".log-body");
    if (body) body.dataset.stick = (body.scrollTop + body.clientHeight >= body.scrollHeight - 40) ? "1" : "0";
    htmx.trigger(tail, "orch:log");
  }

  document.addEventListener("htmx:afterRequest", function (e) {
    var id = e.detail.elt && e.detail.elt.id;
    if (!id || !state.pending[id]) return;
    delete state.pending[id];
    setTimeout(function () { refreshWhenIdle(id); }, 0);
  });

  // The refresh that was due while a request was in flight. The region found may still be
  // the old one, marked htmx-request until its swap: refreshing it then would only set the
  // pending flag again, after the only afterRequest that reads it, and the refresh was lost.
  function refreshWhenIdle(id) {
    var region = document.getElementById(id);  // the new one, when the swap replaced it
    if (!region || !region.dataset.live) return;
    if (region.classList.contains("htmx-request")) {
      setTimeout(function () { refreshWhenIdle(id); }, 50);
      return;
    }
    refresh(region);
  }

  document.addEventListener("htmx:wsBeforeMessage", function (e) {
    var msg = e.detail.message;
    if (typeof msg === "string" && msg.charAt(0) === "{") {
      e.preventDefault();
      var data;
      try { data = JSON.parse(msg); } catch (err) { return; }
      if (data.events) onEvents(data.events);
    }
  });
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    var el = e.detail && e.detail.target;
    if (el && el.classList) el.classList.add("updated");
  });
  document.addEventListener("htmx:wsOpen", function () {
    state.socketOpen = true;
    state.opened += 1;
    var live = $("#live"); if (live) live.dataset.wsState = "open";
    var note = $("#connection"); if (note) note.hidden = true;
    if (state.opened > 1) refreshAll();  // reconnected: catch up on what we missed
  });
  document.addEventListener("htmx:wsClose", function () {
    state.socketOpen = false;
    var live = $("#live"); if (live) live.dataset.wsState = "closed";
    setTimeout(function () {
      var note = $("#connection");
      if (note && !state.socketOpen && $("[data-live][data-active='1']")) note.hidden = false;
    }, 2000);
  });

  // The fallback: a slow poll, only while something shown is active (a running run, a tail).
  setInterval(function () {
    var active = $all("[data-live][data-active='1']");
    if (!active.length) return;
    var every = state.socketOpen ? 30000 : 8000;
    if (Date.now() - state.lastRefresh < every) return;
    state.lastRefresh = Date.now();
    active.forEach(refresh);
  }, 2000);

  /* --- panel ---------------------------------------------------------------------------- */
  function openPanel(href, source) {
    var panel = $("#panel");
    if (!panel) { window.location.href = href; return; }
    $all(".selected").forEach(function (el) { el.classList.remove("selected"); });
    if (source) source.classList.add("selected");
    panel.hidden = false;
    htmx.ajax("GET", href, { target: "#panel", swap: "innerHTML" });
  }

  document.addEventListener("click", function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    var t = e.target;
    // Inside the panel, a mapped task's instance links (and an instance's neighbours) open
    // in the panel too; on a task's own page they are ordinary links.
    var link = t.closest && t.closest("#grid a.cell, #graph a.node-link, #gantt a.bar, #panel a[data-panel-link]");
    if (link) {
      e.preventDefault();
      openPanel(link.getAttribute("href"), link.closest(".node") || link);
      return;
    }
    if (t.closest("[data-close-panel]")) {
      var panel = $("#panel"); panel.hidden = true; panel.innerHTML = "";
      $all(".selected").forEach(function (el) { el.classList.remove("selected"); });
      return;
    }
    if (t.closest("[data-close-modal]")) {
      var modal = $("#modal");
      if (modal && modal.open) { e.preventDefault(); modal.close(); }
      return;
    }
    if (t.closest("[data-clear-results]")) {
      var box = t.closest(".log-results"); if (box) box.innerHTML = "";
      return;
    }
    // The whole name of a group row toggles its children, not only the small arrow; so does
    // a click on one of the group's cells (as Enter on it does).
    var groupRow = t.closest("#grid .grow.group .gname, #grid .grow.group .gcell");
    if (groupRow) { toggleGroup(groupRow.closest(".grow").dataset.row); return; }
    var collapse = t.closest("[data-grid-collapse]");
    if (collapse) { collapseAll(collapse.dataset.gridCollapse === "all"); return; }
    if (t.closest("#theme-toggle")) {
      var now = document.documentElement.dataset.theme;
      setTheme(now === undefined ? "light" : now === "light" ? "dark" : "system");
    }
  });

  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-autosubmit]")) e.target.form.submit();
  });

  /* --- modal and action results ---------------------------------------------------------- */
  document.addEventListener("htmx:afterSwap", function (e) {
    var target = e.detail.target;
    if (target && target.id === "modal-body") {
      var modal = $("#modal");
      if (!modal.open) modal.showModal();
      var first = $("input:not([type=hidden]), textarea, select, button[data-confirm]", target);
      if (first) first.focus();
    }
    if (target && target.id === "panel") target.hidden = false;
  });
  document.addEventListener("orch:done", function (e) {
    var modal = $("#modal"); if (modal && modal.open) modal.close();
    toast((e.detail && e.detail.message) || "Done.");
    refreshAll();
  });
  // A refused request (a 400 naming the bad field, a 403) says why instead of doing nothing.
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var plain = (xhr.getResponseHeader("Content-Type") || "").indexOf("text/plain") === 0;
    toast(plain && xhr.responseText ? xhr.responseText.slice(0, 300)
      : "The server refused the request (HTTP " + xhr.status + ").");
  });
  function toast(text) {
    var el = $("#toast"); if (!el) return;
    el.textContent = text; el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { el.hidden = true; }, 5000);
  }

  /* --- grid groups ------------------------------------------------------------------------ */
  // Collapsed groups are remembered per DAG across visits and tabs (localStorage).
  function collapsedKey() {
    var grid = $("#grid"); return grid ? "orch-collapsed:" + grid.dataset.dagId : null;
  }
  function loadCollapsed() {
    try { return JSON.parse(localStorage.getItem(collapsedKey()) || "[]"); } catch (e) { return []; }
  }
  function saveCollapsed(keys) {
    try { localStorage.setItem(collapsedKey(), JSON.stringify(keys)); } catch (e) { /* private mode */ }
  }
  function applyCollapsed() {
    var grid = $("#grid"); if (!grid) return;
    var closed = loadCollapsed();
    $all(".grow.group", grid).forEach(function (row) {
      var isClosed = closed.indexOf(row.dataset.row) >= 0;
      row.classList.toggle("collapsed", isClosed);
      var btn = $(".toggle", row);
      if (btn) {
        btn.setAttribute("aria-expanded", isClosed ? "false" : "true");
        btn.setAttribute("aria-label", (isClosed ? "Expand " : "Collapse ") + $(".glabel", row).textContent);
      }
    });
    $all(".grow[data-parents]", grid).forEach(function (row) {
      var parents = row.dataset.parents.split(" ");
      row.hidden = parents.some(function (p) { return closed.indexOf(p) >= 0; });
    });
  }
  function toggleGroup(key) {
    var closed = loadCollapsed();
    var i = closed.indexOf(key);
    if (i >= 0) closed.splice(i, 1); else closed.push(key);
    saveCollapsed(closed); applyCollapsed();
  }
  function collapseAll(all) {
    saveCollapsed(all ? $all("#grid .grow.group").map(function (r) { return r.dataset.row; }) : []);
    applyCollapsed();
  }

  /* --- tooltips ---------------------------------------------------------------------------- */
  // One floating box for every [data-tip] (grid cells, run bars, dates): shown on hover and
  // keyboard focus, its text the attribute's lines (the first one bold).
  function tipBox() {
    var box = $("#tip");
    if (!box) {
      box = document.createElement("div");
      box.id = "tip"; box.className = "tip"; box.setAttribute("role", "tooltip"); box.hidden = true;
      document.body.appendChild(box);
    }
    return box;
  }
  function showTip(el) {
    var box = tipBox();
    box.textContent = el.getAttribute("data-tip");
    box.hidden = false;
    var r = el.getBoundingClientRect(), w = box.offsetWidth, h = box.offsetHeight;
    var left = Math.max(4, Math.min(r.left + r.width / 2 - w / 2, window.innerWidth - w - 4));
    var top = r.bottom + 6 + h > window.innerHeight ? r.top - h - 6 : r.bottom + 6;
    box.style.left = left + "px"; box.style.top = Math.max(4, top) + "px";
    el.setAttribute("aria-describedby", "tip");
  }
  function hideTip(el) {
    var box = $("#tip"); if (box) box.hidden = true;
    if (el && el.removeAttribute) el.removeAttribute("aria-describedby");
  }
  ["mouseover", "focusin"].forEach(function (name) {
    document.addEventListener(name, function (e) {
      var el = e.target.closest && e.target.closest("[data-tip]");
      if (el) showTip(el);
    });
  });
  ["mouseout", "focusout"].forEach(function (name) {
    document.addEventListener(name, function (e) {
      var el = e.target.closest && e.target.closest("[data-tip]");
      if (el && !(e.relatedTarget && el.contains(e.relatedTarget))) hideTip(el);
    });
  });
  document.addEventListener("scroll", function () { hideTip(null); }, true);
  // A live update can replace the hovered cell: the box must not outlive it.
  document.addEventListener("htmx:beforeSwap", function () { hideTip(null); });

  /* --- logs ------------------------------------------------------------------------------ */
  // Wrap (on by default) and full screen (off) are remembered for every log in localStorage.
  function logPref(name) {
    var fallback = name === "wrap" ? "1" : "0";
    try { return (localStorage.getItem("orch-log-" + name) || fallback) === "1"; } catch (e) { return fallback === "1"; }
  }
  function applyLogPrefs(root) {
    var wrap = logPref("wrap"), full = logPref("fullscreen");
    $all(".log", root).concat(root.classList && root.classList.contains("log") ? [root] : []).forEach(function (log) {
      var body = $(".log-body", log); if (body) body.classList.toggle("nowrap", !wrap);
      log.classList.toggle("fullscreen", full);
      $all("[data-log-toggle]", log).forEach(function (btn) {
        btn.setAttribute("aria-pressed", (btn.dataset.logToggle === "wrap" ? wrap : full) ? "true" : "false");
      });
    });
  }
  function setLogPref(name, on) {
    try { localStorage.setItem("orch-log-" + name, on ? "1" : "0"); } catch (e) { /* private mode */ }
    applyLogPrefs(document);
  }
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-log-toggle]");
    if (btn) setLogPref(btn.dataset.logToggle, !logPref(btn.dataset.logToggle));
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && logPref("fullscreen") && !($("#modal") || {}).open) setLogPref("fullscreen", false);
  });


  /* --- graph: zoom, pan, fit, collapsed groups -------------------------------------------
     The server lays the graph out; here only a transform on its <g class="graph-view"> changes:
     the wheel (and a trackpad pinch, which the browser sends as a wheel with ctrlKey) zooms
     around the pointer, a drag pans, two touching fingers pinch. The view survives the live
     refreshes that replace the region (kept per DAG in memory); a new page starts fitted. */
  var graphViews = {};
  var ZOOM_MIN = 0.05, ZOOM_MAX = 4;
  function graphParts() {
    var section = $("#graph"), scroll = section && $(".graph-scroll", section);
    return scroll ? { section: section, scroll: scroll, view: $(".graph-view", scroll) } : null;
  }
  function drawView(parts, v) {
    graphViews[parts.section.dataset.dagId + "|" + parts.section.dataset.collapsed] = v;
    parts.view.setAttribute("transform", "translate(" + v.x.toFixed(1) + " " + v.y.toFixed(1) + ") scale(" + v.k.toFixed(4) + ")");
    parts.section.dataset.zoom = v.k.toFixed(4);
  }
  function fitView(parts) {
    var w = Number(parts.scroll.dataset.graphWidth), h = Number(parts.scroll.dataset.graphHeight);
    var W = parts.scroll.clientWidth, H = parts.scroll.clientHeight;
    var k = Math.max(ZOOM_MIN, Math.min(1, W / w, H / h));
    return { k: k, x: (W - w * k) / 2, y: (H - h * k) / 2 };
  }
  function currentView(parts) {
    return graphViews[parts.section.dataset.dagId + "|" + parts.section.dataset.collapsed] || fitView(parts);
  }
  function zoomAt(parts, factor, cx, cy) {
    var v = currentView(parts);
    var k = Math.max(ZOOM_MIN, Math.min(ZOOM_MAX, v.k * factor));
    // Keep the point under (cx, cy) where it is.
    drawView(parts, { k: k, x: cx - (cx - v.x) * k / v.k, y: cy - (cy - v.y) * k / v.k });
  }
  function graphCommand(name) {
    var parts = graphParts(); if (!parts) return;
    var W = parts.scroll.clientWidth, H = parts.scroll.clientHeight;
    if (name === "fit") drawView(parts, fitView(parts));
    else if (name === "reset") drawView(parts, { k: 1, x: 16, y: 16 });
    else if (name === "in") zoomAt(parts, 1.25, W / 2, H / 2);
    else if (name === "out") zoomAt(parts, 0.8, W / 2, H / 2);
  }
  function initGraph() {
    var parts = graphParts(); if (parts) drawView(parts, currentView(parts));
  }
  document.addEventListener("wheel", function (e) {
    var scroll = e.target.closest && e.target.closest("#graph .graph-scroll");
    if (!scroll) return;
    e.preventDefault();
    var r = scroll.getBoundingClientRect();
    var unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
    zoomAt(graphParts(), Math.exp(-e.deltaY * unit * (e.ctrlKey ? 0.01 : 0.0015)), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  var drag = { pointers: {}, moved: false };
  document.addEventListener("pointerdown", function (e) {
    var scroll = e.target.closest && e.target.closest("#graph .graph-scroll");
    if (!scroll || (e.pointerType === "mouse" && e.button !== 0)) return;
    drag.pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
    drag.moved = false;
  });
  document.addEventListener("pointermove", function (e) {
    var last = drag.pointers[e.pointerId], parts = graphParts();
    if (!last || !parts) return;
    var ids = Object.keys(drag.pointers);
    if (ids.length === 2) {  // pinch: scale by how far the fingers moved apart
      var other = drag.pointers[ids[0] === String(e.pointerId) ? ids[1] : ids[0]];
      var before = Math.hypot(last.x - other.x, last.y - other.y);
      var after = Math.hypot(e.clientX - other.x, e.clientY - other.y);
      var r = parts.scroll.getBoundingClientRect();
      if (before > 0) zoomAt(parts, after / before, (e.clientX + other.x) / 2 - r.left, (e.clientY + other.y) / 2 - r.top);
    } else {
      var dx = e.clientX - last.x, dy = e.clientY - last.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;  // still a click
      if (!drag.moved) parts.scroll.setPointerCapture(e.pointerId);
      var v = currentView(parts);
      drawView(parts, { k: v.k, x: v.x + dx, y: v.y + dy });
      parts.scroll.classList.add("panning");
    }
    drag.moved = true;
    drag.pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
  });
  ["pointerup", "pointercancel"].forEach(function (name) {
    document.addEventListener(name, function (e) {
      delete drag.pointers[e.pointerId];
      var parts = graphParts(); if (parts) parts.scroll.classList.remove("panning");
    });
  });
  // A drag that panned must not also click the node it started on.
  document.addEventListener("click", function (e) {
    if (drag.moved && e.target.closest && e.target.closest("#graph .graph-scroll")) {
      drag.moved = false; e.preventDefault(); e.stopImmediatePropagation();
    }
  }, true);
  // Collapsing or expanding a group lays the graph out again on the server (and the live
  // connection follows the page's ?collapsed=), so it is a navigation.
  function toggleGraphGroup(groupId) {
    var section = $("#graph");
    var closed = (section.dataset.collapsed || "").split(",").filter(Boolean);
    var i = closed.indexOf(groupId);
    if (i >= 0) closed.splice(i, 1);
    else closed = closed.filter(function (g) { return g.indexOf(groupId + ".") !== 0; }).concat([groupId]);
    var url = new URL(window.location.href);
    if (closed.length) url.searchParams.set("collapsed", closed.join(",")); else url.searchParams.delete("collapsed");
    window.location.href = url.toString();
  }
  document.addEventListener("click", function (e) {
    if (e.defaultPrevented || !e.target.closest) return;
    var cmd = e.target.closest("#graph [data-graph]");
    if (cmd) { graphCommand(cmd.dataset.graph); return; }
    var group = e.target.closest("#graph .tgroup, #graph .node[data-group-id]");
    if (group) toggleGraphGroup(group.dataset.groupId);
  });


  /* --- keyboard ---------------------------------------------------------------------------
     As Airflow 3's grid: the arrow keys (alone or with Shift) move between cells, Ctrl/Cmd
     with an arrow jumps to the first or last one, Space toggles a group. Here also: Enter
     opens the focused task instance (cells and nodes are links), Escape closes the panel,
     and the graph's nodes are reached the same way (the nearest node in that direction);
     "?" lists the shortcuts. */
  var SHORTCUTS = [
    ["← ↑ → ↓", "Move between grid cells or graph nodes (Shift+arrow too)"],
    ["Ctrl/⌘ + arrow", "Jump to the first or last cell in that direction"],
    ["Enter", "Open the focused task instance (or expand a collapsed group)"],
    ["Space", "Collapse or expand the focused group (in the graph: the group around the focused task)"],
    ["Escape", "Close the task panel (or this help)"],
    ["+ / −", "Zoom the graph in or out"],
    ["f / 0", "Fit the whole graph / show it at actual size"],
    ["?", "Show this help"]
  ];
  function shortcutsDialog() {
    var dialog = $("#shortcuts");
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.id = "shortcuts"; dialog.className = "shortcuts"; dialog.setAttribute("aria-labelledby", "shortcuts-title");
    var title = document.createElement("h2"); title.id = "shortcuts-title"; title.textContent = "Keyboard shortcuts";
    var list = document.createElement("dl");
    SHORTCUTS.forEach(function (pair) {
      var dt = document.createElement("dt"), kbd = document.createElement("kbd"), dd = document.createElement("dd");
      kbd.textContent = pair[0]; dt.appendChild(kbd); dd.textContent = pair[1];
      list.appendChild(dt); list.appendChild(dd);
    });
    var close = document.createElement("button");
    close.type = "button"; close.className = "btn btn-small"; close.textContent = "Close";
    close.addEventListener("click", function () { dialog.close(); });
    dialog.appendChild(title); dialog.appendChild(list); dialog.appendChild(close);
    document.body.appendChild(dialog);
    return dialog;
  }
  function focusOn(el) {
    if (!el) return;
    if (!el.matches("a[href], button") && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
    el.focus();
    if (el.closest("#graph")) revealNode(el.closest(".node"));
  }
  function gridMove(cell, key, jump) {
    var row = cell.closest(".grow");
    var cells = $all(".gcells > .cell", row), col = cells.indexOf(cell);
    if (key === "ArrowLeft" || key === "ArrowRight") {
      var step = key === "ArrowLeft" ? -1 : 1;
      var to = jump ? (step < 0 ? 0 : cells.length - 1) : col + step;
      return cells[Math.max(0, Math.min(cells.length - 1, to))];
    }
    var rows = $all("#grid .grow.task, #grid .grow.group").filter(function (r) { return !r.hidden; });
    var at = rows.indexOf(row), dir = key === "ArrowUp" ? -1 : 1;
    var target = jump ? rows[dir < 0 ? 0 : rows.length - 1] : rows[at + dir];
    if (!target) return cell;
    var there = $all(".gcells > .cell", target);
    return there[Math.min(col, there.length - 1)] || cell;
  }
  function nodeCentre(node) {
    return { x: Number(node.getAttribute("x")) + Number(node.getAttribute("width")) / 2,
             y: Number(node.getAttribute("y")) + Number(node.getAttribute("height")) / 2 };
  }
  function graphMove(node, key, jump) {
    var from = nodeCentre(node), best = null, bestScore = Infinity;
    var horizontal = key === "ArrowLeft" || key === "ArrowRight";
    var sign = key === "ArrowLeft" || key === "ArrowUp" ? -1 : 1;
    $all("#graph .node").forEach(function (other) {
      if (other === node) return;
      var c = nodeCentre(other);
      var along = (horizontal ? c.x - from.x : c.y - from.y) * sign;
      var across = Math.abs(horizontal ? c.y - from.y : c.x - from.x);
      if (along <= 1) return;
      // The nearest in that direction, preferring ones in line; a jump goes the farthest.
      var score = jump ? -along + across : along + 2 * across;
      if (score < bestScore) { bestScore = score; best = other; }
    });
    return best || node;
  }
  function enclosingGroup(node) {
    var c = nodeCentre(node), best = null, bestArea = Infinity;
    $all("#graph .tgroup").forEach(function (g) {
      var r = $("rect", g);
      var x = Number(r.getAttribute("x")), y = Number(r.getAttribute("y"));
      var w = Number(r.getAttribute("width")), h = Number(r.getAttribute("height"));
      if (c.x > x && c.x < x + w && c.y > y && c.y < y + h && w * h < bestArea) { bestArea = w * h; best = g.dataset.groupId; }
    });
    return best;
  }
  function nodeTarget(node) { return node && ($(".node-link", node) || node); }
  // Pan (keeping the zoom) so a node reached by keyboard is inside the frame.
  function revealNode(node) {
    var parts = graphParts(); if (!parts || !node) return;
    var r = node.getBoundingClientRect(), f = parts.scroll.getBoundingClientRect();
    if (r.left >= f.left && r.right <= f.right && r.top >= f.top && r.bottom <= f.bottom) return;
    var v = currentView(parts);
    drawView(parts, { k: v.k, x: v.x + (f.left + f.width / 2) - (r.left + r.width / 2),
                      y: v.y + (f.top + f.height / 2) - (r.top + r.height / 2) });
  }
  function typing(el) {
    return el && el.closest && el.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  }
  document.addEventListener("keydown", function (e) {
    if (typing(e.target) || e.altKey) return;
    var modal = $("#modal");
    if (modal && modal.open) return;
    var active = document.activeElement;
    var cell = active && active.closest && active.closest("#grid .gcells > .cell");
    var node = active && active.closest && active.closest("#graph .node");
    var jump = e.ctrlKey || e.metaKey;
    if (/^Arrow(Up|Down|Left|Right)$/.test(e.key)) {
      if (!cell && !node) {  // the first arrow press enters the grid or graph
        var first = $("#grid .gcells > .cell") || $("#graph .node");
        // …unless the focus is somewhere arrows mean something (a link list, a select).
        if (!first || (active && active !== document.body && !active.matches("button"))) return;
        e.preventDefault(); focusOn(first.classList.contains("node") ? nodeTarget(first) : first); return;
      }
      e.preventDefault();
      focusOn(cell ? gridMove(cell, e.key, jump) : nodeTarget(graphMove(node, e.key, jump)));
      return;
    }
    if (e.ctrlKey || e.metaKey) return;
    if ((e.key === " " || e.key === "Enter") && cell && cell.dataset.groupId) {
      e.preventDefault(); toggleGroup(cell.closest(".grow").dataset.row); focusOn(cell); return;
    }
    if ((e.key === " " || e.key === "Enter") && node && node.dataset.groupId) {
      e.preventDefault(); toggleGraphGroup(node.dataset.groupId); return;
    }
    if (e.key === " " && node) {  // Space on a task collapses the innermost group around it
      var around = enclosingGroup(node);
      e.preventDefault();
      if (around) toggleGraphGroup(around);
      return;
    }
    if (e.key === "Escape") {
      var panel = $("#panel");
      if (panel && !panel.hidden) {
        panel.hidden = true; panel.innerHTML = "";
        var back = $(".selected"); $all(".selected").forEach(function (el) { el.classList.remove("selected"); });
        if (back) focusOn(back.matches(".node") ? nodeTarget(back) : back);
      }
      return;
    }
    if (!$("#grid") && !$("#graph")) return;  // the shortcuts below belong to those two views
    if (e.key === "?") { e.preventDefault(); var d = shortcutsDialog(); if (!d.open) d.showModal(); return; }
    if (!$("#graph .graph-scroll")) return;
    var command = { "+": "in", "=": "in", "-": "out", "f": "fit", "0": "reset" }[e.key];
    if (command) { e.preventDefault(); graphCommand(command); }
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-shortcuts]")) shortcutsDialog().showModal();
  });
  // A live update that replaces the focused cell or node keeps the focus on its successor.
  var refocus = null;
  ["htmx:beforeSwap", "htmx:oobBeforeSwap"].forEach(function (name) {
    document.addEventListener(name, function (e) {
      var active = document.activeElement, target = e.detail && e.detail.target;
      if (!active || active === document.body || !target || !target.contains(active)) return;
      var holder = active.closest("[id]");
      if (holder) refocus = { id: holder.id, inner: holder === active ? null : active.className.baseVal || active.className };
    });
  });
  ["htmx:afterSettle", "htmx:oobAfterSwap"].forEach(function (name) {
    document.addEventListener(name, function () {
      if (!refocus) return;
      var holder = document.getElementById(refocus.id), inner = refocus.inner;
      refocus = null;
      if (!holder) return;
      var el = inner ? $("." + String(inner).split(" ")[0], holder) : holder;
      if (el) { if (!el.matches("a[href], button") && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1"); el.focus({ preventScroll: true }); }
    });
  });

  document.addEventListener("htmx:load", function (e) {
    var el = e.detail.elt;
    if (!el || !el.classList) return;
    if (el.id === "grid") applyCollapsed();
    if (el.id === "graph") initGraph();
    if (el.classList.contains("log") || el.querySelector(".log")) applyLogPrefs(el);
    if (el.classList.contains("log-tail")) {
      var body = el.closest(".log-body");
      if (body && body.dataset.stick === "1") body.scrollTop = body.scrollHeight;
      if (state.logPending[el.id] || el.dataset.more === "1") {
        delete state.logPending[el.id];
        setTimeout(function () { tailLog(el); }, 0);
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    applyCollapsed();
    initGraph();
    applyLogPrefs(document);
    showTheme();
    initTimezoneMenu();
    $all(".log-body").forEach(function (body) { body.scrollTop = body.scrollHeight; });
  });

  /* --- the Admin menu: a <details> that opens without script; close it on a click outside
     it or on Escape (returning the focus to its summary), as a menu would. */
  document.addEventListener("click", function (e) {
    $all("details.navmenu[open]").forEach(function (menu) {
      if (!menu.contains(e.target)) menu.open = false;
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    $all("details.navmenu[open]").forEach(function (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    });
  });
})();
