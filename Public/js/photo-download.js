// The photo download page: a live example of the file names the pattern gives (the same rules as the server:
// tokens replaced, unsafe characters become "_", empty means {loginId}), and the custom size fields only when
// "Custom" is chosen.
const form = document.querySelector("form[data-photo-download]");
const example = JSON.parse(form.dataset.example || "{}");
const pattern = form.querySelector("#namePattern");
const shown = form.querySelector("[data-name-example]");
const size = form.querySelector("#size");
const custom = form.querySelector(".custom-size");
const folder = form.querySelector("input[name=folderPerClass]");

function safe(text) {
  let mapped = [...text].map((c) => (/[\p{L}\p{N} ._\-()]/u.test(c) ? c : "_")).join("").trim();
  while (mapped.startsWith(".")) mapped = mapped.slice(1);
  return mapped.slice(0, 120).trim();
}

function update() {
  const wanted = pattern.value.trim() || "{loginId}";
  const name = safe(wanted.replace(/\{(\w+)\}/g, (whole, token) => (token in example ? example[token] : whole)));
  const folderName = folder.checked ? `${safe(example.className || "No class")}/` : "";
  shown.textContent = `${folderName}${name || example.userId || "photo"}.jpg`;
}

function sizeChanged() { custom.hidden = size.value !== "custom"; }

pattern.addEventListener("input", update);
folder.addEventListener("change", update);
size.addEventListener("change", sizeChanged);
update();
sizeChanged();
