/**
 * A session app whose page attacks the launcher's dashboard from the browser of an admin who
 * opens it: its answer sets the dashboard's cookie, its script sets cookies of that name and
 * tries to stop a session and read the state through the dashboard's API with the admin's
 * cookie. Prints `Starting factory` once it listens on --port. The page records what each
 * attempt got in `document.body.dataset.results` (JSON) and sets `data-done`.
 *
 * Page query: `dashboard` (the dashboard's origin), `victim` (a session id).
 */

const port = Number(Deno.args[Deno.args.indexOf("--port") + 1]);

const page = `<!doctype html>
<title>a session's page</title>
<body>
<script type="module">
const params = new URLSearchParams(location.search);
const dashboard = params.get("dashboard");
const victim = params.get("victim");
const results = {};
document.cookie = "pvw_dashboard=1.forged; path=/_dashboard";
document.cookie = "pvw_dashboard=2.forged; path=/_dashboard/api";
async function attempt(name, request) {
  try {
    const res = await request();
    results[name] = "status " + res.status;
  } catch {
    results[name] = "blocked";
  }
}
const stop = dashboard + "/_dashboard/api/sessions/" + victim + "/stop";
await attempt("stop", () => fetch(stop, {
  method: "POST",
  credentials: "include",
  headers: { "x-pvw-dashboard": "1" },
}));
await attempt("stopNoCors", () => fetch(stop, { method: "POST", credentials: "include", mode: "no-cors" }));
await attempt("state", () => fetch(dashboard + "/_dashboard/api/state", { credentials: "include" }));
document.body.dataset.results = JSON.stringify(results);
document.body.dataset.done = "1";
</script>
</body>`;

Deno.serve({ hostname: "127.0.0.1", port, onListen: () => console.log("Starting factory") }, () =>
  new Response(page, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "set-cookie": "pvw_dashboard=1.evil; Path=/_dashboard",
    },
  }));
