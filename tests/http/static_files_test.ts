import assert from "node:assert/strict";
import { join } from "node:path";
import { NotFoundError } from "../../lib/http/errors.ts";
import { serveFile } from "../../lib/http/static_files.ts";

/** A content folder `www` with a file beside it, `secret.txt`, that must never be served. */
async function contentDir(): Promise<
  { base: string; root: string; [Symbol.asyncDispose](): Promise<void> }
> {
  const base = await Deno.makeTempDir({ prefix: "pvw-static-test-" });
  const root = join(base, "www");
  await Deno.mkdir(join(root, "sub"), { recursive: true });
  await Deno.writeTextFile(join(base, "secret.txt"), "outside the content folder");
  const files: Record<string, string> = {
    "index.html": "<h1>pvw</h1>",
    "app.js": "console.log(1);",
    "app.mjs": "export {};",
    "style.css": "body{}",
    "data.json": '{"a":1}',
    "logo.svg": "<svg/>",
    "LOUD.HTML": "<p>loud</p>",
    "blob.unknown": "???",
    "noext": "plain",
    "sp ace.txt": "spaced",
    "é.txt": "accent",
    "sub/page.html": "<p>sub</p>",
  };
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(root, name), text);
  }
  return {
    base,
    root,
    [Symbol.asyncDispose]: () => Deno.remove(base, { recursive: true }),
  };
}

Deno.test("serveFile() redirects / to /index.html", async () => {
  await using dir = await contentDir();
  const res = await serveFile(dir.root, "/");
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/index.html");
  assert.equal(res.body, null);
});

Deno.test("serveFile() answers a file with its content type and length", async (t) => {
  await using dir = await contentDir();
  const cases: [pathname: string, type: string, text: string][] = [
    ["/index.html", "text/html; charset=utf-8", "<h1>pvw</h1>"],
    ["/app.js", "text/javascript; charset=utf-8", "console.log(1);"],
    ["/app.mjs", "text/javascript; charset=utf-8", "export {};"],
    ["/style.css", "text/css; charset=utf-8", "body{}"],
    ["/data.json", "application/json; charset=utf-8", '{"a":1}'],
    ["/logo.svg", "image/svg+xml", "<svg/>"],
    ["/LOUD.HTML", "text/html; charset=utf-8", "<p>loud</p>"],
    ["/blob.unknown", "application/octet-stream", "???"],
    ["/noext", "application/octet-stream", "plain"],
    ["/sub/page.html", "text/html; charset=utf-8", "<p>sub</p>"],
    ["/sp%20ace.txt", "text/plain; charset=utf-8", "spaced"],
    ["/%C3%A9.txt", "text/plain; charset=utf-8", "accent"],
    ["/sub/../index.html", "text/html; charset=utf-8", "<h1>pvw</h1>"],
  ];
  for (const [pathname, type, text] of cases) {
    await t.step(pathname, async () => {
      const res = await serveFile(dir.root, pathname);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), type);
      assert.equal(
        res.headers.get("content-length"),
        String(new TextEncoder().encode(text).length),
      );
      assert.equal(await res.text(), text);
    });
  }
});

Deno.test("serveFile() streams a large binary file byte for byte", async () => {
  await using dir = await contentDir();
  const data = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
  await Deno.writeFile(join(dir.root, "big.wasm"), data);
  const res = await serveFile(dir.root, "/big.wasm");
  assert.equal(res.headers.get("content-type"), "application/wasm");
  assert.equal(res.headers.get("content-length"), "300000");
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), data);
});

Deno.test("serveFile() answers HEAD with the headers of GET and no body", async () => {
  await using dir = await contentDir();
  const res = await serveFile(dir.root, "/index.html", true);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(res.headers.get("content-length"), "12");
  assert.equal(res.body, null);
});

Deno.test("serveFile() throws NotFoundError for anything that is not a file under the root", async (t) => {
  await using dir = await contentDir();
  const cases: [kind: string, pathnames: string[]][] = [
    ["a missing file", ["/nope.html", "/sub/nope", "/index.html/"]],
    ["a directory", ["/sub", "/sub/", "/%73ub", "/."]],
    ["a parent segment", ["/../secret.txt", "/sub/../../secret.txt", "//../secret.txt"]],
    ["an encoded parent segment", ["/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt"]],
    ["encoded slashes", ["/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/sub/..%2F..%2Fsecret.txt"]],
    ["an absolute path", [
      "/%2fetc%2fpasswd",
      ["", ...dir.base.split("/"), "secret.txt"].join("%2F"),
    ]],
    ["a backslash", ["/..\\secret.txt", "/..%5csecret.txt"]],
    ["a NUL", ["/index.html%00", "/index.html%00.txt", "/%00"]],
    ["malformed percent-escapes", ["/%", "/%zz", "/%E0%A4", "/%C3"]],
  ];
  for (const [kind, pathnames] of cases) {
    await t.step(kind, async () => {
      for (const pathname of pathnames) {
        await assert.rejects(
          serveFile(dir.root, pathname),
          (err) => err instanceof NotFoundError && err.path === pathname,
          pathname,
        );
        await assert.rejects(serveFile(dir.root, pathname, true), NotFoundError, pathname);
      }
    });
  }
});

Deno.test("serveFile() serves regular files inside the root only: no symlink out, dotfile, FIFO or device", async (t) => {
  await using dir = await contentDir();
  await Deno.writeTextFile(join(dir.root, ".env"), "PASSWORD=x");
  await Deno.symlink(join(dir.base, "secret.txt"), join(dir.root, "out.txt"));
  await Deno.symlink("index.html", join(dir.root, "in.html"));
  await Deno.symlink("/dev/null", join(dir.root, "null"));
  const fifo = await new Deno.Command("mkfifo", { args: [join(dir.root, "pipe")] }).output();
  assert.equal(fifo.code, 0);
  await t.step("a symlink that stays inside is served", async () => {
    assert.equal(await (await serveFile(dir.root, "/in.html")).text(), "<h1>pvw</h1>");
  });
  for (const pathname of ["/out.txt", "/.env", "/sub/../.env", "/pipe", "/null"]) {
    await t.step(pathname, async () => {
      await assert.rejects(serveFile(dir.root, pathname), NotFoundError);
      await assert.rejects(serveFile(dir.root, pathname, true), NotFoundError);
    });
  }
});
