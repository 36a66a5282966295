// The student picker of a batch page: typing a name, login ID or class fills the list with matching students
// (from /api/v1/students), each shown with login ID and classes; choosing one puts its userId in the field.
let timer;
for (const input of document.querySelectorAll("input[data-student-search]")) {
  const list = document.getElementById(input.getAttribute("list"));
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < 2) return;
    timer = setTimeout(async () => {
      const response = await fetch(`/api/v1/students?q=${encodeURIComponent(text)}&limit=10`, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const page = await response.json();
      list.replaceChildren(...page.items.map((s) => {
        const option = document.createElement("option");
        option.value = s.userId;
        option.label = [`${s.firstName} ${s.lastName}`, s.loginId, (s.classNames || []).join(", "), s.userGrade && `grade ${s.userGrade}`]
          .filter(Boolean).join(" · ");
        return option;
      }));
    }, 200);
  });
}
