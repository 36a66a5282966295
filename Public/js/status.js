// Keeps Upload Status rows and a batch's page up to date while work runs, without reloading the page.
const running = new Set(["queued", "processing", "undoing"]);
const labels = {
  draft: "Draft – preview", queued: "Queued", processing: "Processing", completed: "Completed",
  completed_with_errors: "Completed with errors", failed: "Failed", cancelled: "Cancelled", undoing: "Undoing", undone: "Undone",
};

function paint(el, b) {
  el.dataset.status = b.status;
  const status = el.querySelector('[data-field="status"]');
  if (status) { status.textContent = labels[b.status] || b.status; status.className = `state state-${b.status}`; }
  const bar = el.querySelector('[data-field="progress"]');
  if (bar) { bar.value = b.progress.percent; bar.textContent = `${b.progress.percent}%`; }
  const pct = el.querySelector('[data-field="percent"]');
  if (pct) pct.textContent = b.progress.total > 0 && !["completed", "completed_with_errors", "undone"].includes(b.status)
    ? `${b.progress.percent}% (${b.progress.done} of ${b.progress.total})` : `${b.progress.percent}%`;
  const sum = el.querySelector('[data-field="summary"]');
  if (sum) sum.textContent = b.summary;
  // A download once its ZIP is written.
  const wrap = el.querySelector('[data-field="download-wrap"]');
  if (wrap && b.links.download) { wrap.querySelector("a").href = b.links.download; wrap.hidden = false; }
}

async function fetchJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) throw new Error(`${response.status}`);
  return response.json();
}

async function followList(table) {
  const note = document.querySelector("[data-live-note]");
  const rows = () => [...table.querySelectorAll("tr[data-batch]")];
  while (rows().some((r) => running.has(r.dataset.status))) {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      const batches = await fetchJSON("/api/v1/batches");
      const byId = new Map(batches.map((b) => [b.id, b]));
      for (const row of rows()) { const b = byId.get(row.dataset.batch); if (b) paint(row, b); }
      if (note) note.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (e) { if (note) note.textContent = "Could not reach the server; trying again…"; }
  }
  if (note && note.textContent) note.textContent = "All batches here have finished.";
}

async function followBatch(section) {
  const id = section.dataset.liveBatch;
  const wasRunning = running.has(section.dataset.status);
  while (running.has(section.dataset.status)) {
    await new Promise((r) => setTimeout(r, 1000));
    try { paint(section, await fetchJSON(`/api/v1/batches/${id}`)); } catch (e) { /* try again */ }
  }
  // Finished while watching: show the report and the rows as they are now.
  if (wasRunning) location.replace(`/uploads/${id}`);
}

const list = document.querySelector("[data-live-list]");
if (list) followList(list);
const batch = document.querySelector("[data-live-batch]");
if (batch) followBatch(batch);
