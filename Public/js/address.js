// A page shown in answer to an upload form (a refused file, shown again with the reason) has the form's address,
// whose `_csrf` (the sign-in's form token, carried in the address because the upload's body is streamed) would stay in
// the address bar and the history. It is taken out of the address; the page stays as it is.
const url = new URL(window.location.href);
if (url.searchParams.has("_csrf")) {
  url.searchParams.delete("_csrf");
  window.history.replaceState(null, "", url.pathname + url.search + url.hash);
}
