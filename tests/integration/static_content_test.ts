import assert from "node:assert/strict";
import { join } from "node:path";
import { specConfig, startLauncher, within } from "./harness.ts";

const READY = ["sh", "-c", "echo Starting factory; exec sleep 600"];

/** Makes a FIFO (named pipe) with mkfifo(1): Deno has no call for it. */
async function mkfifo(path: string): Promise<void> {
  const { code } = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.equal(code, 0, `mkfifo ${path}`);
}

Deno.test("content: only regular files inside the folder are served; no symlink escape, dotfile, FIFO or device", async (t) => {
  const launcher = await startLauncher((dir) => {
    const www = join(dir, "www");
    Deno.mkdirSync(join(www, "sub"), { recursive: true });
    Deno.mkdirSync(join(www, ".git"));
    Deno.writeTextFileSync(join(www, "index.html"), "<h1>home</h1>");
    Deno.writeTextFileSync(join(www, "sub", "page.html"), "<p>sub</p>");
    Deno.writeTextFileSync(join(www, ".env"), "PASSWORD=hunter2");
    Deno.writeTextFileSync(join(www, ".git", "config"), "[remote] url=secret");
    Deno.writeTextFileSync(join(www, "sub", ".htpasswd"), "admin:hash");
    Deno.writeTextFileSync(join(dir, "secret.txt"), "outside the content folder");
    Deno.symlinkSync(join(dir, "secret.txt"), join(www, "escape.txt"));
    Deno.symlinkSync("../secret.txt", join(www, "relative-escape.txt"));
    Deno.symlinkSync("/etc/passwd", join(www, "passwd"));
    Deno.symlinkSync(dir, join(www, "up"));
    Deno.symlinkSync("/dev/zero", join(www, "zero"));
    Deno.symlinkSync(".env", join(www, "env.txt"));
    Deno.symlinkSync("index.html", join(www, "home.html"));
    Deno.symlinkSync("sub", join(www, "alias"));
    return specConfig(dir, { viz: { cmd: READY } }, { content: www });
  });
  await mkfifo(join(launcher.dir, "www", "pipe.html"));
  const get = async (path: string, method = "GET") => {
    const res = await within(
      5000,
      `an answer to ${method} ${path}`,
      fetch(launcher.base + path, { method }),
    );
    return { status: res.status, text: await res.text() };
  };
  try {
    await t.step(
      "regular files, and symlinks that stay inside the folder, are served",
      async () => {
        assert.deepEqual(await get("/index.html"), { status: 200, text: "<h1>home</h1>" });
        assert.deepEqual(await get("/sub/page.html"), { status: 200, text: "<p>sub</p>" });
        assert.deepEqual(await get("/home.html"), { status: 200, text: "<h1>home</h1>" });
        assert.deepEqual(await get("/alias/page.html"), { status: 200, text: "<p>sub</p>" });
      },
    );
    const refused: [kind: string, paths: string[]][] = [
      ["symlinks out of the folder", [
        "/escape.txt",
        "/relative-escape.txt",
        "/passwd",
        "/up/secret.txt",
        "/up/launcher.config",
      ]],
      ["dotfiles and dot-folders", [
        "/.env",
        "/.git/config",
        "/sub/.htpasswd",
        "/%2eenv",
        "/env.txt",
      ]],
      ["a FIFO (answered at once, not hung)", ["/pipe.html"]],
      ["a device", ["/zero"]],
    ];
    for (const [kind, paths] of refused) {
      await t.step(`${kind}: 404 JSON`, async () => {
        for (const path of paths) {
          for (const method of ["GET", "HEAD"]) {
            const res = await get(path, method);
            assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
            if (method === "GET") assert.equal(JSON.parse(res.text).error, `nothing at ${path}`);
            assert.doesNotMatch(
              res.text,
              /outside the content|root:|PASSWORD|url=secret|admin:hash/,
            );
          }
        }
      });
    }
    await t.step("the launcher still serves afterwards", async () => {
      assert.equal((await get("/healthz")).status, 200);
    });
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});
