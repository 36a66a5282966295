// The Students list's check boxes: the header box ticks every student on the page; "Download their photos" asks
// for at least one tick.
const form = document.getElementById("chosen-students");
const boxes = () => [...form.querySelectorAll('input[name="userIds[]"]')];
const all = form.querySelector("[data-choose-all]");
all.addEventListener("change", () => boxes().forEach((b) => { b.checked = all.checked; }));
form.addEventListener("submit", (e) => {
  if (!boxes().some((b) => b.checked)) {
    e.preventDefault();
    alert("Tick at least one person first.");
  }
});
