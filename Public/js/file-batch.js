// The upload pages of file batches (documents, photos) with JavaScript: checks each file before sending it (type
// by its first bytes, size, photo dimensions as displayed, how many), says why a file will be skipped, then makes
// the batch and uploads a few files at a time with per-file progress, and opens the preview. Without JavaScript
// the form posts everything in one request.
const form = document.querySelector("form[data-file-batch]");
const kind = form.dataset.kind;
const optionNames = (form.dataset.options || "").split(" ").filter(Boolean);
const noun = kind === "photos" ? "photo" : "PDF file";
const input = form.querySelector("input[type=file]");
const list = form.querySelector("[data-file-list]");
const zone = form.querySelector("[data-dropzone]");
const problem = form.querySelector("[data-form-error]");
const maxBytes = Number(form.dataset.maxBytes);
const maxFiles = Number(form.dataset.maxFiles);
const csrf = form.dataset.csrf;
let chosen = [];
// The page checks the files itself (and says why in words); the browser's own "select a file" bubble would stop
// a batch whose files were dropped rather than chosen, as the file field then stays empty.
form.noValidate = true;
// "15 photos will be uploaded · 5 will be skipped", above the list.
const tally = document.createElement("p");
tally.className = "file-tally";
tally.setAttribute("role", "status");
tally.hidden = true;
list.before(tally);

const size = (n) => n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;

// What a file really is, from its first bytes.
function sniff(head) {
  const text = new TextDecoder("latin1").decode(head);
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "jpeg";
  if (head[0] === 0x89 && text.startsWith("PNG", 1)) return "a PNG image";
  if (text.startsWith("GIF8")) return "a GIF image";
  if (text.startsWith("RIFF") && text.slice(8, 12) === "WEBP") return "a WebP image";
  if (text.slice(4, 8) === "ftyp" && /hei|mif|avif/.test(text.slice(8, 12))) return "a HEIC image (iPhone)";
  if (text.includes("%PDF-")) return "pdf";
  if (head[0] === 0x50 && head[1] === 0x4b) return "a Word, Excel or ZIP file";
  return "other";
}

async function check(file) {
  if (file.size === 0) return "it is empty";
  if (file.size > maxBytes) return `it is ${size(file.size)}, more than the ${size(maxBytes)} a ${noun} may be`;
  const type = sniff(new Uint8Array(await file.slice(0, 1024).arrayBuffer()));
  if (kind === "documents") {
    if (type === "pdf") return null;
    return type === "other" ? "it is not a PDF" : `it is ${type === "jpeg" ? "a JPEG image" : type}, not a PDF`;
  }
  if (type === "other") return "it is not a JPEG photo";
  if (type !== "jpeg") return `it is ${type === "pdf" ? "a PDF document" : type}, not a JPEG photo`;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file); // EXIF orientation applied: the size as displayed
  } catch {
    return "the browser cannot read it as a photo (damaged or incomplete?)";
  }
  const { width, height } = bitmap;
  bitmap.close();
  if (width < 480 || width > 960 || height < 600 || height > 1200)
    return `it is ${width} × ${height} px as displayed; a photo must be 480–960 px wide and 600–1200 px high`;
  return null;
}

async function choose(files) {
  chosen = [];
  list.replaceChildren();
  problem.hidden = true;
  tally.hidden = false;
  tally.textContent = `Checking ${files.length} file${files.length === 1 ? "" : "s"}…`;
  const skipped = [];
  for (const file of files) {
    const reason = await check(file);
    const row = document.createElement("li");
    row.innerHTML = `<span class="name"></span> <span class="small muted"></span> <progress max="100" value="0" hidden></progress> <span class="small state-note"></span>`;
    row.querySelector(".name").textContent = file.name;
    row.querySelector(".muted").textContent = size(file.size);
    if (reason) {
      row.classList.add("skipped");
      row.querySelector(".state-note").textContent = `Will be skipped: ${reason}.`;
      skipped.push(row);
    } else {
      chosen.push({ file, row });
    }
    tally.textContent = `Checking ${files.length} file${files.length === 1 ? "" : "s"}… ${skipped.length + chosen.length} done`;
  }
  // The files that will be skipped first, so that their reasons are seen without scrolling a long list.
  list.replaceChildren(...skipped, ...chosen.map((c) => c.row));
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  tally.textContent = `${plural(chosen.length, noun)} will be uploaded`
    + (skipped.length ? ` · ${skipped.length} ${skipped.length === 1 ? "file" : "files"} will be skipped (listed first)` : "") + ".";
  tally.classList.toggle("has-skipped", skipped.length > 0);
  if (chosen.length > maxFiles) {
    problem.textContent = `You chose ${chosen.length} valid ${noun}s; a batch takes at most ${maxFiles}. Choose fewer files and upload the rest as a second batch.`;
    problem.hidden = false;
  }
}

input.addEventListener("change", () => choose([...input.files]));
for (const type of ["dragenter", "dragover"]) zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("over"); });
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", (e) => {
  e.preventDefault();
  zone.classList.remove("over");
  // The file field shows the dropped files too (and sends them when the page's script is bypassed).
  try { input.files = e.dataTransfer.files; } catch {}
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
    xhr.setRequestHeader("Content-Type", kind === "photos" ? "image/jpeg" : "application/pdf");
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
  if (chosen.length === 0) { problem.textContent = `Choose at least one valid ${noun}.`; problem.hidden = false; return; }
  if (chosen.length > maxFiles) { problem.hidden = false; return; }
  const fields = new FormData(form);
  const options = {};
  for (const name of optionNames) if (fields.get(name)) options[name] = fields.get(name);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  const created = await fetch("/api/v1/batches", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ kind, options }),
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
