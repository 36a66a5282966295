// The documents upload page with JavaScript: checks each file before sending it (PDF by its first bytes, size,
// how many), says why a file will be skipped, then makes the batch and uploads a few files at a time with
// per-file progress, and opens the preview. Without JavaScript the form posts everything in one request.
const form = document.querySelector("form[data-documents-form]");
const input = form.querySelector("input[type=file]");
const list = form.querySelector("[data-file-list]");
const zone = form.querySelector("[data-dropzone]");
const problem = form.querySelector("[data-form-error]");
const maxBytes = Number(form.dataset.maxBytes);
const maxFiles = Number(form.dataset.maxFiles);
const csrf = form.dataset.csrf;
let chosen = [];

const size = (n) => n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;

async function check(file) {
  if (file.size === 0) return "it is empty";
  if (file.size > maxBytes) return `it is ${size(file.size)}, more than the ${size(maxBytes)} a document may be`;
  const head = new Uint8Array(await file.slice(0, 1024).arrayBuffer());
  const text = new TextDecoder("latin1").decode(head);
  if (!text.includes("%PDF-")) {
    if (head[0] === 0xff && head[1] === 0xd8) return "it is a JPEG image, not a PDF";
    if (head[0] === 0x89 && head[1] === 0x50) return "it is a PNG image, not a PDF";
    if (head[0] === 0x50 && head[1] === 0x4b) return "it is a Word, Excel or ZIP file, not a PDF";
    return "it is not a PDF";
  }
  return null;
}

async function choose(files) {
  chosen = [];
  list.replaceChildren();
  problem.hidden = true;
  for (const file of files) {
    const reason = await check(file);
    const row = document.createElement("li");
    row.innerHTML = `<span class="name"></span> <span class="small muted"></span> <progress max="100" value="0" hidden></progress> <span class="small state-note"></span>`;
    row.querySelector(".name").textContent = file.name;
    row.querySelector(".muted").textContent = size(file.size);
    if (reason) {
      row.classList.add("skipped");
      row.querySelector(".state-note").textContent = `Will be skipped: ${reason}.`;
    } else {
      chosen.push({ file, row });
    }
    list.append(row);
  }
  if (chosen.length > maxFiles) {
    problem.textContent = `You chose ${chosen.length} PDF files; a batch takes at most ${maxFiles}. Choose fewer files and upload the rest as a second batch.`;
    problem.hidden = false;
  }
}

input.addEventListener("change", () => choose([...input.files]));
for (const type of ["dragenter", "dragover"]) zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("over"); });
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", (e) => {
  e.preventDefault();
  zone.classList.remove("over");
  choose([...e.dataTransfer.files]);
});

function put(batchId, { file, row }) {
  return new Promise((resolve) => {
    const bar = row.querySelector("progress");
    const note = row.querySelector(".state-note");
    bar.hidden = false;
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/api/v1/batches/${batchId}/files/${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Content-Type", "application/pdf");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total); };
    xhr.onload = () => {
      if (xhr.status === 201) { bar.value = 100; note.textContent = "Uploaded."; resolve(true); return; }
      let message = `HTTP ${xhr.status}`;
      try { message = JSON.parse(xhr.responseText).error.message; } catch {}
      note.textContent = `Not uploaded: ${message}`;
      row.classList.add("skipped");
      resolve(false);
    };
    xhr.onerror = () => { note.textContent = "Not uploaded: the connection failed."; resolve(false); };
    xhr.send(file);
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  problem.hidden = true;
  if (chosen.length === 0) { problem.textContent = "Choose at least one PDF file."; problem.hidden = false; return; }
  if (chosen.length > maxFiles) { problem.hidden = false; return; }
  const fields = new FormData(form);
  const options = {};
  for (const name of ["documentType", "schoolYear", "term", "title"]) if (fields.get(name)) options[name] = fields.get(name);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  const created = await fetch("/api/v1/batches", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ kind: "documents", options }),
  });
  const body = await created.json();
  if (created.status !== 201) {
    problem.textContent = [body.error.message, ...(body.error.details || [])].join(" ");
    problem.hidden = false;
    button.disabled = false;
    return;
  }
  const queue = [...chosen];
  const workers = Array.from({ length: 3 }, async () => {
    while (queue.length) await put(body.id, queue.shift());
  });
  await Promise.all(workers);
  window.location.href = `/uploads/${body.id}`;
});
