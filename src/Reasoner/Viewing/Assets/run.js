// The run page: every tree of the run, filtered and sorted in the browser. Text goes in with textContent only.
"use strict";
(async function () {
  const base = document.body.dataset.base;
  const response = await fetch(base + "api/run");
  const run = await response.json();
  document.title = "Reasoner: " + run.run;
  document.getElementById("title").textContent = run.run;
  const correct = run.trees.filter(t => t.correctPath).length;
  document.getElementById("summary").textContent =
    `${run.trees.length} trees, ${correct} with a correct path — ${run.directory}`;

  const body = document.querySelector("#trees tbody");
  const headers = [...document.querySelectorAll("#trees th")];
  let sortKey = "index", sortDir = 1;

  function cell(row, value, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = value;
    row.appendChild(td);
    return td;
  }

  function render() {
    const status = document.getElementById("filter-status").value;
    const correctPath = document.getElementById("filter-correct").value;
    const text = document.getElementById("filter-text").value.trim().toLowerCase();
    const rows = run.trees.filter(t =>
      (!status || t.status === status) &&
      (!correctPath || (correctPath === "yes") === t.correctPath) &&
      (!text || t.problem.toLowerCase().includes(text)));
    rows.sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      const c = typeof x === "string" ? x.localeCompare(y) : (x === y ? 0 : x < y ? -1 : 1);
      return c !== 0 ? c * sortDir : a.index - b.index;
    });
    const fragment = document.createDocumentFragment();
    for (const t of rows) {
      const tr = document.createElement("tr");
      tr.dataset.index = t.index;
      cell(tr, t.index, "num");
      const link = document.createElement("a");
      link.href = base + "tree/" + t.index;
      link.textContent = t.problem;
      cell(tr, "").appendChild(link);
      cell(tr, t.family);
      const s = cell(tr, t.status, t.status === "failed" ? "failed" : "");
      if (t.error) s.title = t.error;
      cell(tr, t.algorithm);
      cell(tr, t.nodes, "num");
      cell(tr, t.terminals, "num");
      cell(tr, t.correctPath ? "yes" : "no", t.correctPath ? "yes" : "");
      cell(tr, t.seconds.toFixed(1), "num");
      fragment.appendChild(tr);
    }
    body.replaceChildren(fragment);
    document.getElementById("shown").textContent = `${rows.length} shown`;
    for (const h of headers) h.className = h.dataset.key === sortKey ? (sortDir > 0 ? "asc" : "desc") : "";
  }

  for (const h of headers) {
    h.addEventListener("click", () => {
      if (sortKey === h.dataset.key) sortDir = -sortDir; else { sortKey = h.dataset.key; sortDir = 1; }
      render();
    });
  }
  for (const id of ["filter-status", "filter-correct", "filter-text"])
    document.getElementById(id).addEventListener("input", render);

  if (run.plots.length) {
    document.getElementById("plots-section").hidden = false;
    const plots = document.getElementById("plots");
    for (const p of run.plots) {
      const a = document.createElement("a");
      a.href = base + "files/" + p.split("/").map(encodeURIComponent).join("/");
      a.textContent = p;
      const img = document.createElement("img");
      img.src = a.href;
      img.alt = p;
      plots.append(a, img);
    }
  }
  if (run.damage.length) {
    document.getElementById("damage-section").hidden = false;
    for (const d of run.damage) {
      const li = document.createElement("li");
      li.textContent = d;
      document.getElementById("damage").appendChild(li);
    }
  }
  render();
  document.body.dataset.ready = "true";
})();
