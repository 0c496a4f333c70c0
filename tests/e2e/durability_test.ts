import assert from "node:assert/strict";
import { join } from "node:path";
import { Needs, ROOT } from "./tools.ts";

const STRACE = "/usr/bin/strace";
const needs = new Needs("state file durability test (strace)", [STRACE]);

/** Saves a state file with the real StateFile, as the launcher does. */
const SAVE = join(ROOT, "tests/e2e/save_state.ts");

/**
 * The flushes and renames of a `strace -f` log, in order, as `sync <path>` and
 * `rename <from> <to>`: descriptors are followed through the `dup`s Deno makes to flush
 * off the event loop.
 */
function syncsAndRenames(trace: string): string[] {
  const paths = new Map<string, string>();
  const events: string[] = [];
  for (const line of trace.split("\n")) {
    const opened = line.match(/openat\(AT_FDCWD, "([^"]+)".* = (\d+)$/);
    if (opened) paths.set(opened[2], opened[1]);
    const dup = line.match(/(?:fcntl\((\d+), F_DUPFD\w*|dup[23]?\((\d+)).* = (\d+)$/);
    if (dup) paths.set(dup[3], paths.get(dup[1] ?? dup[2]) ?? "?");
    const sync = line.match(/\bf(?:data)?sync\((\d+)/);
    if (sync) events.push(`sync ${paths.get(sync[1]) ?? "?"}`);
    const renamed = line.match(/rename(?:at2?)?\(.*?"([^"]+)".*?"([^"]+)"/);
    if (renamed) events.push(`rename ${renamed[1]} ${renamed[2]}`);
  }
  return events;
}

Deno.test({
  name:
    "the state file's data is flushed before the rename that puts it in place, and its folder after",
  ignore: needs.ignore,
  async fn() {
    needs.check();
    const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "pvw-launcher-sync-" }));
    try {
      const trace = join(dir, "trace");
      const state = join(dir, "state.json");
      const run = await new Deno.Command(STRACE, {
        args: [
          "-f",
          "-qq",
          "-e",
          "trace=openat,fcntl,dup,dup2,dup3,fsync,fdatasync,rename,renameat,renameat2",
          "-o",
          trace,
          Deno.execPath(),
          "run",
          "--quiet",
          "-A",
          SAVE,
          state,
        ],
        cwd: ROOT,
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.ok(run.success, new TextDecoder().decode(run.stderr));
      assert.match(await Deno.readTextFile(state), /"id":"abc"/);
      const events = syncsAndRenames(await Deno.readTextFile(trace));
      const tmp = events.find((e) => e.startsWith(`sync ${dir}/.state.json.`))?.slice(5);
      assert.ok(tmp, `the temporary file is flushed: ${events.join("; ")}`);
      assert.deepEqual(
        events.filter((e) =>
          e.split(" ").slice(1).every((path) => path === dir || path.startsWith(`${dir}/`))
        ),
        [`sync ${tmp}`, `rename ${tmp} ${state}`, `sync ${dir}`],
        "flush the data, then rename, then flush the folder",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
