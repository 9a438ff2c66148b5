// orch board: filters, graph zoom and focus, and the reader's place kept
// across a --watch reload. The page reads the same without this script.
(function () {
  "use strict";
  var d = document, root = d.documentElement;
  root.setAttribute("data-js", "on");
  var css = getComputedStyle(root).getPropertyValue("--board").trim();
  root.setAttribute("data-css", css || "missing");
  var store = {
    get: function () {
      try { return JSON.parse(sessionStorage.getItem("orch-board") || "{}"); } catch (e) { return {}; }
    },
    set: function (v) {
      try { sessionStorage.setItem("orch-board", JSON.stringify(v)); } catch (e) { /* no storage */ }
    }
  };
  var each = function (list, f) { Array.prototype.forEach.call(list, f); };

  // The filter: by text, phase, owner; done tasks hidden on request.
  var form = d.getElementById("filter"), q = d.getElementById("fq"), ph = d.getElementById("fphase"),
    ow = d.getElementById("fowner"), dn = d.getElementById("fdone"), out = d.getElementById("fcount");
  var cards = Array.prototype.slice.call(d.querySelectorAll(".card"));
  var edges = Array.prototype.slice.call(d.querySelectorAll(".edge"));
  var nodes = {};
  each(d.querySelectorAll(".node"), function (n) { nodes[n.getAttribute("data-task")] = n; });
  var text = cards.map(function (c) { return c.textContent.toLowerCase(); });
  function apply() {
    var t = q.value.trim().toLowerCase(), p = ph.value, o = ow.value, h = dn.checked, shown = 0, on = {};
    var active = t || p || o || h;
    cards.forEach(function (c, i) {
      var ok = (!t || text[i].indexOf(t) >= 0) && (!p || c.getAttribute("data-phase") === p) &&
        (!o || c.getAttribute("data-owner") === o) && (!h || c.getAttribute("data-status") !== "done");
      var id = c.id.slice(5);
      c.parentNode.hidden = !ok;
      if (ok) { shown++; on[id] = 1; }
      if (nodes[id]) { nodes[id].classList.toggle("dim", !!active && !ok); }
    });
    edges.forEach(function (e) {
      e.classList.toggle("dim", !!active && !(on[e.getAttribute("data-from")] && on[e.getAttribute("data-to")]));
    });
    each(d.querySelectorAll(".col"), function (col) {
      col.querySelector(".count").textContent = col.querySelectorAll("li:not([hidden]) > .card").length;
    });
    out.textContent = active ? shown + " of " + cards.length + " tasks shown" : "";
  }
  form.hidden = false;
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  [q, ph, ow, dn].forEach(function (el) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });

  // The graph: zoom, a phase's band, a node's edges.
  var svg = d.getElementById("gsvg"), box = d.getElementById("gscroll"), lvl = d.getElementById("zlevel");
  var scale = 1, W = svg ? +svg.getAttribute("data-width") : 0, H = svg ? +svg.getAttribute("data-height") : 0;
  function zoom(s) {
    if (!svg) { return; }
    scale = Math.max(0.05, Math.min(4, s));
    svg.setAttribute("width", Math.round(W * scale));
    svg.setAttribute("height", Math.round(H * scale));
    lvl.textContent = Math.round(scale * 100) + "%";
  }
  function show(x, y) {
    box.scrollLeft = Math.max(0, x * scale - 24);
    box.scrollTop = Math.max(0, y * scale - 24);
  }
  function hl(id, on) {
    edges.forEach(function (e) {
      if (e.getAttribute("data-from") === id || e.getAttribute("data-to") === id) { e.classList.toggle("hl", on); }
    });
  }
  // Where the open work starts: the leftmost task not finished.
  function frontier() {
    var best = null;
    Object.keys(nodes).forEach(function (id) {
      var c = nodes[id].getAttribute("data-column");
      if (c === "done" || c === "split" || c === "cancelled") { return; }
      var r = nodes[id].querySelector("rect"), x = +r.getAttribute("x"), y = +r.getAttribute("y");
      if (!best || x < best[0] || (x === best[0] && y < best[1])) { best = [x, y]; }
    });
    return best;
  }
  if (svg) {
    d.getElementById("gtools").hidden = false;
    d.getElementById("zin").onclick = function () { zoom(scale * 1.25); };
    d.getElementById("zout").onclick = function () { zoom(scale / 1.25); };
    d.getElementById("z1").onclick = function () { zoom(1); };
    d.getElementById("zfit").onclick = function () { zoom((box.clientWidth - 4) / W); };
    Object.keys(nodes).forEach(function (id) {
      var n = nodes[id];
      n.addEventListener("mouseenter", function () { hl(id, true); });
      n.addEventListener("mouseleave", function () { hl(id, false); });
      n.addEventListener("focus", function () { hl(id, true); });
      n.addEventListener("blur", function () { hl(id, false); });
    });
    each(d.querySelectorAll(".phases a"), function (a) {
      a.addEventListener("click", function (e) {
        var band = d.getElementById(a.getAttribute("href").slice(1));
        if (!band) { return; }
        e.preventDefault();
        box.scrollIntoView({ block: "nearest" });
        show(+band.getAttribute("data-x"), +band.getAttribute("data-top"));
      });
    });
    // A card's ID leads to its node: focus it, so its edges light up.
    window.addEventListener("hashchange", function () {
      var id = location.hash.slice(1);
      if (id.indexOf("node-") === 0 && d.getElementById(id)) { d.getElementById(id).focus(); }
    });
    zoom(1);
  }

  // The reader's place, kept across a reload (orch board --watch).
  var st = store.get();
  if (st.q !== undefined) {
    q.value = st.q; ph.value = st.p || ""; ow.value = st.o || ""; dn.checked = !!st.h;
    if (st.z) { zoom(st.z); }
    apply();
    if (box) { box.scrollLeft = st.gx || 0; box.scrollTop = st.gy || 0; }
    each(st.open || [], function (id) { var e = d.getElementById(id); if (e) { e.open = true; } });
    window.scrollTo(st.x || 0, st.y || 0);
  } else if (svg && W > box.clientWidth) {
    var f = frontier();
    if (f) { show(f[0] - 40, f[1] - box.clientHeight / 3); }
  }
  window.addEventListener("pagehide", function () {
    var open = Array.prototype.map.call(d.querySelectorAll("details[open][id]"), function (e) { return e.id; });
    store.set({
      q: q.value, p: ph.value, o: ow.value, h: dn.checked, z: scale, x: window.scrollX, y: window.scrollY,
      gx: box ? box.scrollLeft : 0, gy: box ? box.scrollTop : 0, open: open
    });
  });
})();
