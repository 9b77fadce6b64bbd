// The tree page: one preference tree drawn on a canvas (pan by dragging, zoom with the wheel, click a node for its
// details, click its ± to collapse it). Canvas text and textContent only: step text is never parsed as HTML.
"use strict";
(async function () {
  const base = document.body.dataset.base;
  const index = Number(location.pathname.split("/").filter(Boolean).pop());
  const response = await fetch(`${base}api/trees/${index}`);
  const tree = await response.json();
  if (!response.ok) {
    document.getElementById("title").textContent = tree.error ?? `tree ${index} could not be read`;
    document.body.dataset.error = "true";
    return;
  }
  const models = (await (await fetch(`${base}api/models`)).json()).models;

  const BOX_W = 240, BOX_H = 64, COL = 300, ROW = 76, TOGGLE_R = 8;
  const nodes = tree.nodes;
  const children = nodes.map(() => []);
  for (const n of nodes) if (n.parent >= 0) children[n.parent].push(n.id);
  const onBestPath = new Set(tree.bestPath);
  const bestEdges = new Set(tree.bestPath.slice(1));
  const pairOf = new Map();
  for (const p of tree.pairs) {
    pairOf.set(p.chosen, { role: "chosen", other: p.rejected, margin: p.margin });
    if (!pairOf.has(p.rejected)) pairOf.set(p.rejected, { role: "rejected", other: p.chosen, margin: p.margin });
  }
  const collapsed = new Set();
  const scores = { policyReward: null, scorer: null, scorerKind: null, beta: null };
  let selected = -1;

  // Each node's step text, cut into two lines for the box; the whole text is in the side panel.
  const LINE = 36;
  function wrap(text) {
    const words = text.split(/\s+/).filter(Boolean);
    const lines = [""];
    for (const w of words) {
      const line = lines[lines.length - 1];
      if ((line + " " + w).trim().length <= LINE) lines[lines.length - 1] = (line + " " + w).trim();
      else if (lines.length < 2) lines.push(w.length > LINE ? w.slice(0, LINE - 1) + "…" : w);
      else { lines[1] = lines[1].slice(0, LINE - 1) + "…"; break; }
    }
    if (lines[0].length > LINE) lines[0] = lines[0].slice(0, LINE - 1) + "…";
    return lines;
  }
  const wrapped = nodes.map(n => n.id === 0 ? ["(question)"] : wrap(n.text));

  // Values a node can be coloured by; null where the node has none.
  const metrics = {
    none: { label: "nothing", get: () => null },
    visits: { label: "visits", get: n => n.visits, log: true },
    q: { label: "Q", get: n => n.q },
    prior: { label: "prior", get: n => n.prior },
    selfEval: { label: "self-evaluation", get: n => n.selfEval },
    mc: { label: "Monte Carlo value", get: n => n.monteCarlo },
    verifier: { label: "verifier score (stored)", get: n => n.verifier },
    stepValue: { label: "step value", get: n => n.stepValue },
    outcome: { label: "outcome", get: n => n.outcome },
    gold: { label: "gold step label", get: n => n.gold, categorical: true },
    policyReward: { label: "β·log π/π_ref (trained)", get: n => scores.policyReward?.[n.id] ?? null, hidden: true },
    scorer: { label: "verifier / value (trained)", get: n => scores.scorer?.[n.id] ?? null, hidden: true },
  };
  const GOLD = { valid: "#a1d99b", correct: "#41ab5d", neutral: "#c6c6c6", invalid: "#fc9272", incorrect: "#ef3b2c" };
  const colourSelect = document.getElementById("colour-by");
  function fillColourOptions() {
    const current = colourSelect.value;
    colourSelect.replaceChildren();
    for (const [key, m] of Object.entries(metrics)) {
      if (m.hidden && !scores[key]) continue;
      if (key !== "none" && !nodes.some(n => n.id !== 0 && m.get(n) != null)) continue;
      const o = document.createElement("option");
      o.value = key;
      o.textContent = m.label;
      colourSelect.appendChild(o);
    }
    colourSelect.value = [...colourSelect.options].some(o => o.value === current) ? current : (tree.rankingValue in metrics ? tree.rankingValue : "none");
  }
  let range = null;
  function computeRange() {
    const m = metrics[colourSelect.value];
    range = null;
    if (m.categorical || colourSelect.value === "none") return;
    let lo = Infinity, hi = -Infinity;
    for (const n of nodes) {
      if (n.id === 0) continue;
      let v = m.get(n);
      if (v == null) continue;
      if (m.log) v = Math.log1p(v);
      lo = Math.min(lo, v); hi = Math.max(hi, v);
    }
    if (lo <= hi) range = { lo, hi };
  }
  function mix(a, b, t) { return a.map((x, i) => Math.round(x + (b[i] - x) * t)); }
  function colourOf(n) {
    const key = colourSelect.value, m = metrics[key];
    if (n.id === 0 || key === "none") return "#ffffff";
    const v = m.get(n);
    if (v == null) return "#eceef2";
    if (m.categorical) return GOLD[v] ?? "#eceef2";
    if (!range) return "#eceef2";
    const x = m.log ? Math.log1p(v) : v;
    const t = range.hi > range.lo ? (x - range.lo) / (range.hi - range.lo) : 0.5;
    const c = t < 0.5 ? mix([215, 48, 39], [254, 224, 139], t * 2) : mix([254, 224, 139], [26, 152, 80], (t - 0.5) * 2);
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }
  function legend() {
    const el = document.getElementById("legend");
    const m = metrics[colourSelect.value];
    el.replaceChildren();
    if (m.categorical) { el.textContent = "valid / correct green, neutral grey, invalid / incorrect red, grey: no label"; return; }
    if (!range) return;
    const f = x => (m.log ? Math.expm1(x) : x).toFixed(3);
    const lo = document.createElement("span"); lo.textContent = f(range.lo) + " ";
    const sw = document.createElement("span"); sw.className = "swatch";
    const hi = document.createElement("span"); hi.textContent = " " + f(range.hi) + (m.log ? " (log scale)" : "");
    el.append(lo, sw, hi);
  }

  // Layout: depth left to right; visible leaves one row each, a parent centred on its children.
  const pos = new Array(nodes.length);
  let visible = [];
  function layout() {
    visible = [];
    let row = 0;
    const stack = [[0, false]];
    while (stack.length) {
      const [id, done] = stack.pop();
      const n = nodes[id];
      const kids = collapsed.has(id) ? [] : children[id];
      if (!done) {
        visible.push(id);
        if (kids.length === 0) { pos[id] = { x: n.depth * COL, y: row++ * ROW }; continue; }
        stack.push([id, true]);
        for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], false]);
      } else {
        pos[id] = { x: n.depth * COL, y: (pos[kids[0]].y + pos[kids[kids.length - 1]].y) / 2 };
      }
    }
  }
  function hiddenBelow(id) {
    let count = 0;
    const stack = [...children[id]];
    while (stack.length) { const c = stack.pop(); count++; stack.push(...children[c]); }
    return count;
  }

  const graph = document.getElementById("graph");
  const canvas = document.getElementById("canvas");
  const ctx = canvas.getContext("2d");
  let view = { scale: 1, tx: 40, ty: 40 };
  function resize() {
    const dpr = window.devicePixelRatio || 1;
    canvas.width = graph.clientWidth * dpr;
    canvas.height = graph.clientHeight * dpr;
    canvas.style.width = graph.clientWidth + "px";
    canvas.style.height = graph.clientHeight + "px";
  }
  function fit() {
    let maxX = 0, maxY = 0;
    for (const id of visible) { maxX = Math.max(maxX, pos[id].x + BOX_W); maxY = Math.max(maxY, pos[id].y + BOX_H); }
    const w = graph.clientWidth - 40, h = graph.clientHeight - 40;
    const scale = Math.max(0.01, Math.min(1, w / maxX, h / maxY));
    view = { scale, tx: 20, ty: 20 + Math.max(0, (h - maxY * scale) / 2) };
  }

  let frame = 0;
  function requestDraw() { if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); }); }
  function draw() {
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr * view.scale, 0, 0, dpr * view.scale, dpr * view.tx, dpr * view.ty);
    const x0 = -view.tx / view.scale, y0 = -view.ty / view.scale;
    const x1 = x0 + graph.clientWidth / view.scale, y1 = y0 + graph.clientHeight / view.scale;
    const inView = (ax, ay, bx, by) => bx >= x0 && ax <= x1 && by >= y0 && ay <= y1;
    const detail = view.scale >= 0.45;

    // Edges, then the best path over them.
    ctx.lineWidth = 1.2 / Math.max(view.scale, 0.3);
    for (const pass of [false, true]) {
      ctx.strokeStyle = pass ? "#e0a100" : "#b8bfcc";
      ctx.lineWidth = (pass ? 4 : 1.2) / Math.max(view.scale, 0.3);
      ctx.beginPath();
      for (const id of visible) {
        const n = nodes[id];
        if (n.parent < 0 || bestEdges.has(id) !== pass) continue;
        const a = pos[n.parent], b = pos[id];
        const ax = a.x + BOX_W, ay = a.y + BOX_H / 2, bx = b.x, by = b.y + BOX_H / 2;
        if (!inView(ax, Math.min(ay, by), bx, Math.max(ay, by))) continue;
        ctx.moveTo(ax, ay);
        ctx.bezierCurveTo(ax + 30, ay, bx - 30, by, bx, by);
      }
      ctx.stroke();
    }

    // The pairs step-level DPO trains on: a dashed arc left of the siblings, with the margin.
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = "#7b3fb5";
    ctx.fillStyle = "#7b3fb5";
    ctx.lineWidth = 2 / Math.max(view.scale, 0.3);
    ctx.font = "11px system-ui, sans-serif";
    for (const p of tree.pairs) {
      const a = pos[p.chosen], b = pos[p.rejected];
      if (!a || !b || !isVisible(p.chosen) || !isVisible(p.rejected)) continue;
      const ay = a.y + BOX_H / 2, by = b.y + BOX_H / 2, x = a.x - 4;
      const bulge = 18 + Math.min(40, Math.abs(by - ay) / 6);
      if (!inView(x - bulge, Math.min(ay, by), x, Math.max(ay, by))) continue;
      ctx.beginPath();
      ctx.moveTo(x, ay);
      ctx.bezierCurveTo(x - bulge, ay, x - bulge, by, x, by);
      ctx.stroke();
      if (detail) ctx.fillText("Δ" + p.margin.toFixed(2), x - bulge - 2, (ay + by) / 2 - 2);
    }
    ctx.setLineDash([]);

    for (const id of visible) {
      const n = nodes[id], p = pos[id];
      if (!inView(p.x - TOGGLE_R, p.y, p.x + BOX_W + TOGGLE_R, p.y + BOX_H)) continue;
      ctx.fillStyle = colourOf(n);
      ctx.fillRect(p.x, p.y, BOX_W, BOX_H);
      const highlight = id === selected ? "#1f5fd1" : onBestPath.has(id) ? "#e0a100" : null;
      ctx.strokeStyle = highlight ?? "#7d8596";
      ctx.lineWidth = (highlight ? 3 : 1) / Math.max(view.scale, 0.5);
      ctx.strokeRect(p.x, p.y, BOX_W, BOX_H);
      if (detail) {
        ctx.fillStyle = "#1d2330";
        ctx.font = "12px system-ui, sans-serif";
        const lines = wrapped[id];
        for (let i = 0; i < lines.length; i++) ctx.fillText(lines[i], p.x + 6, p.y + 15 + i * 15);
        ctx.fillStyle = "#3d4454";
        ctx.font = "11px ui-monospace, monospace";
        ctx.fillText(scoreLine(n), p.x + 6, p.y + BOX_H - 7);
      }
      if (children[id].length) {
        ctx.beginPath();
        ctx.arc(p.x + BOX_W, p.y + BOX_H / 2, TOGGLE_R, 0, Math.PI * 2);
        ctx.fillStyle = "#ffffff"; ctx.fill();
        ctx.strokeStyle = "#5b6272"; ctx.lineWidth = 1 / Math.max(view.scale, 0.5); ctx.stroke();
        if (detail) {
          ctx.fillStyle = "#1d2330";
          ctx.font = "bold 12px system-ui, sans-serif";
          ctx.fillText(collapsed.has(id) ? "+" : "−", p.x + BOX_W - 4, p.y + BOX_H / 2 + 4);
        }
      }
    }
  }
  function isVisible(id) {
    for (let n = nodes[id]; n.parent >= 0; n = nodes[n.parent]) if (collapsed.has(n.parent)) return false;
    return true;
  }
  function fmt(v) { return v == null ? "–" : Number.isInteger(v) ? String(v) : v.toFixed(3); }
  function scoreLine(n) {
    const parts = [`#${n.id}`, `N=${n.visits}`, `Q=${fmt(n.q)}`];
    const key = colourSelect.value;
    if (!["none", "visits", "q", "gold"].includes(key)) parts.push(`${key}=${fmt(metrics[key].get(n))}`);
    if (n.correct === true) parts.push("✓");
    if (n.correct === false) parts.push("✗");
    if (n.gold) parts.push(n.gold);
    if (collapsed.has(n.id)) parts.push(`+${hiddenBelow(n.id)}`);
    return parts.join(" ");
  }

  // Side panel.
  function row(table, name, value) {
    const tr = document.createElement("tr");
    const a = document.createElement("td"); a.textContent = name;
    const b = document.createElement("td"); b.textContent = value;
    tr.append(a, b);
    table.appendChild(tr);
  }
  function showNode(id) {
    const n = nodes[id];
    document.getElementById("node-id").textContent = `#${id}`;
    document.getElementById("node-hint").hidden = true;
    document.getElementById("node-text").textContent = id === 0 ? "(the question: no step)" : n.text;
    const t = document.getElementById("node-values");
    t.replaceChildren();
    row(t, "depth", n.depth);
    row(t, "visits", n.visits);
    row(t, "Q", fmt(n.q));
    row(t, "prior", fmt(n.prior));
    row(t, "self-evaluation", fmt(n.selfEval));
    row(t, "Monte Carlo value", fmt(n.monteCarlo));
    row(t, "verifier score", fmt(n.verifier));
    row(t, "step value", fmt(n.stepValue));
    row(t, "outcome", fmt(n.outcome));
    row(t, "answer", n.answer ?? "–");
    row(t, "correct", n.correct == null ? "–" : n.correct ? "yes" : "no");
    row(t, "terminal", n.terminal ? (n.truncated ? "yes (truncated)" : "yes") : "no");
    row(t, "tokens", n.tokens);
    if (n.duplicates) row(t, "duplicates merged", n.duplicates);
    if (n.gold) row(t, "gold label", `${n.gold}: ${n.goldReason}`);
    if (scores.policyReward && n.id in scores.policyReward) row(t, `β·log π/π_ref (β=${scores.beta})`, fmt(scores.policyReward[n.id]));
    if (scores.scorer && n.id in scores.scorer) row(t, `${scores.scorerKind} score`, fmt(scores.scorer[n.id]));
    const pair = pairOf.get(id);
    if (pair) row(t, "DPO pair", `${pair.role} against #${pair.other}, margin ${fmt(pair.margin)}`);
    if (onBestPath.has(id)) row(t, "best path", "yes");
    const toggle = document.getElementById("toggle-node");
    toggle.hidden = children[id].length === 0;
    toggle.textContent = collapsed.has(id) ? "Expand" : "Collapse";
  }
  function select(id) { selected = id; showNode(id); requestDraw(); }
  function toggle(id) {
    if (!children[id].length) return;
    if (collapsed.has(id)) collapsed.delete(id); else collapsed.add(id);
    layout();
    if (selected >= 0) showNode(selected);
    requestDraw();
  }

  document.getElementById("title").textContent = `${tree.problem} (${tree.family})`;
  document.title = "Reasoner: " + tree.problem;
  document.getElementById("question").textContent = tree.question;
  for (const c of tree.choices) { const d = document.createElement("div"); d.textContent = c; document.getElementById("choices").appendChild(d); }
  document.getElementById("reference").textContent = tree.reference;
  const search = document.getElementById("search");
  row(search, "status", tree.status + (tree.error ? `: ${tree.error}` : ""));
  row(search, "algorithm", tree.algorithm);
  row(search, "model", tree.model);
  row(search, "seed", tree.seed);
  row(search, "nodes", nodes.length);
  row(search, "pairs (train dpo)", `${tree.pairs.length}, ranked by ${metrics[tree.rankingValue]?.label ?? tree.rankingValue}`);
  for (const [k, v] of Object.entries(tree.settings)) row(search, k, v);
  const timings = document.getElementById("timings");
  row(timings, "started", tree.started);
  row(timings, "elapsed", `${tree.seconds.toFixed(2)} s`);
  for (const [k, v] of Object.entries(tree.phaseMs)) row(timings, k, `${(v / 1000).toFixed(2)} s`);

  if (models.length) {
    document.getElementById("model-section").hidden = false;
    const select = document.getElementById("model");
    models.forEach((m, i) => { const o = document.createElement("option"); o.value = i; o.textContent = m; select.appendChild(o); });
    document.getElementById("compute").addEventListener("click", async () => {
      const status = document.getElementById("model-status");
      status.textContent = "computing…";
      const r = await fetch(`${base}api/trees/${index}/scores?model=${select.value}`);
      const body = await r.json();
      if (!r.ok) { status.textContent = body.error; return; }
      scores.policyReward = body.policyReward; scores.scorer = body.scorer; scores.scorerKind = body.scorerKind; scores.beta = body.beta;
      const parts = [];
      if (body.policyReward) parts.push(`β·log π/π_ref of ${body.method} (β=${body.beta}) against ${body.reference}`);
      if (body.scorer) parts.push(`${body.scorerKind} scores`);
      status.textContent = parts.join("; ") + " — cached beside the run";
      fillColourOptions();
      colourSelect.value = body.policyReward ? "policyReward" : "scorer";
      computeRange(); legend();
      if (selected >= 0) showNode(selected);
      requestDraw();
    });
  }

  // Interaction: drag pans, the wheel zooms about the pointer, a click selects or toggles.
  let drag = null;
  graph.addEventListener("mousedown", e => { drag = { x: e.clientX, y: e.clientY, tx: view.tx, ty: view.ty, moved: false }; });
  window.addEventListener("mousemove", e => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    view.tx = drag.tx + dx; view.ty = drag.ty + dy;
    requestDraw();
  });
  window.addEventListener("mouseup", e => {
    if (drag && !drag.moved) click(e);
    drag = null;
  });
  graph.addEventListener("wheel", e => {
    e.preventDefault();
    const r = graph.getBoundingClientRect();
    const mx = e.clientX - r.left, my = e.clientY - r.top;
    const factor = Math.exp(-e.deltaY * 0.0015);
    const scale = Math.min(4, Math.max(0.01, view.scale * factor));
    view.tx = mx - (mx - view.tx) * scale / view.scale;
    view.ty = my - (my - view.ty) * scale / view.scale;
    view.scale = scale;
    requestDraw();
  }, { passive: false });
  // Hovering a node shows every value it has, without clicking.
  const tip = document.getElementById("tip");
  function nodeAt(e) {
    const r = graph.getBoundingClientRect();
    const wx = (e.clientX - r.left - view.tx) / view.scale, wy = (e.clientY - r.top - view.ty) / view.scale;
    for (const id of visible) {
      const p = pos[id];
      if (wx >= p.x && wx <= p.x + BOX_W && wy >= p.y && wy <= p.y + BOX_H) return id;
    }
    return -1;
  }
  graph.addEventListener("mousemove", e => {
    const id = drag ? -1 : nodeAt(e);
    if (id < 0) { tip.hidden = true; return; }
    const n = nodes[id];
    const lines = [id === 0 ? "(the question)" : n.text,
      `#${id}  visits ${n.visits}  Q ${fmt(n.q)}  prior ${fmt(n.prior)}`,
      `self-eval ${fmt(n.selfEval)}  MC ${fmt(n.monteCarlo)}  verifier ${fmt(n.verifier)}  outcome ${fmt(n.outcome)}`];
    if (n.answer != null) lines.push(`answer ${n.answer}${n.correct === true ? " (correct)" : n.correct === false ? " (wrong)" : ""}`);
    if (n.gold) lines.push(`gold: ${n.gold}, ${n.goldReason}`);
    tip.textContent = lines.join("\n");
    const r = graph.getBoundingClientRect();
    tip.style.left = Math.min(e.clientX - r.left + 14, graph.clientWidth - 340) + "px";
    tip.style.top = (e.clientY - r.top + 14) + "px";
    tip.hidden = false;
  });
  graph.addEventListener("mouseleave", () => { tip.hidden = true; });
  function click(e) {
    const r = graph.getBoundingClientRect();
    const wx = (e.clientX - r.left - view.tx) / view.scale, wy = (e.clientY - r.top - view.ty) / view.scale;
    for (const id of visible) {
      const p = pos[id];
      if (children[id].length && Math.hypot(wx - (p.x + BOX_W), wy - (p.y + BOX_H / 2)) <= TOGGLE_R + 2 / view.scale) { toggle(id); return; }
    }
    for (const id of visible) {
      const p = pos[id];
      if (wx >= p.x && wx <= p.x + BOX_W && wy >= p.y && wy <= p.y + BOX_H) { select(id); return; }
    }
  }
  colourSelect.addEventListener("input", () => { computeRange(); legend(); requestDraw(); });
  document.getElementById("fit").addEventListener("click", () => { fit(); requestDraw(); });
  document.getElementById("expand-all").addEventListener("click", () => { collapsed.clear(); layout(); requestDraw(); });
  document.getElementById("toggle-node").addEventListener("click", () => toggle(selected));
  window.addEventListener("resize", () => { resize(); requestDraw(); });

  // A link can carry the colouring and a selected node: tree/3?colour=gold&node=8.
  const query = new URLSearchParams(location.search);
  fillColourOptions();
  if ([...colourSelect.options].some(o => o.value === query.get("colour"))) colourSelect.value = query.get("colour");
  computeRange();
  legend();
  layout();
  resize();
  fit();
  const wanted = Number(query.get("node"));
  if (query.has("node") && Number.isInteger(wanted) && wanted >= 0 && wanted < nodes.length) { selected = wanted; showNode(wanted); }
  draw();

  // For tests and the render benchmark: where things are, and what is drawn.
  window.treeView = {
    nodeCount: nodes.length,
    visibleCount: () => visible.length,
    selected: () => selected,
    colourOf: id => colourOf(nodes[id]),
    toggle,
    draw,
    fitAll: () => { fit(); draw(); },
    colourBy: key => { colourSelect.value = key; computeRange(); legend(); requestDraw(); },
    zoomTo: (id, scale) => {
      const p = pos[id];
      view = { scale, tx: graph.clientWidth / 2 - (p.x + BOX_W / 2) * scale, ty: graph.clientHeight / 2 - (p.y + BOX_H / 2) * scale };
      draw();
    },
    // Page coordinates of a node's box centre and of its ± toggle.
    boxPoint: id => { const r = graph.getBoundingClientRect(), p = pos[id]; return { x: r.left + view.tx + (p.x + BOX_W / 2) * view.scale, y: r.top + view.ty + (p.y + BOX_H / 2) * view.scale }; },
    togglePoint: id => { const r = graph.getBoundingClientRect(), p = pos[id]; return { x: r.left + view.tx + (p.x + BOX_W) * view.scale, y: r.top + view.ty + (p.y + BOX_H / 2) * view.scale }; },
  };
  document.body.dataset.firstRenderMs = performance.now().toFixed(1);
  document.body.dataset.ready = "true";
})();
