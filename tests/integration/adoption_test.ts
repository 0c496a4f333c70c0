import assert from "node:assert/strict";
import { join } from "node:path";
import { ECHO_APP, type Launcher, launchOn, processRuns, specConfig, within } from "./harness.ts";
import { checkNamespaces, NO_NAMESPACES, PID_NAMESPACE } from "./namespace.ts";

/** The start time of a process, as /proc/<pid>/stat gives it (what the launcher records). */
function startTime(pid: number): string {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

/** A state file entry as an attacker (or a stale file) would write it. */
function entry(id: string, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    id,
    application: "echo",
    host: "127.0.0.1",
    port: 1,
    pid: 0,
    identity: "0",
    logFile: "",
    startedAt: Date.now(),
    readyMs: 1,
    answer: { id },
    ...fields,
  };
}

/** Writes a launcher folder with its config and a state file holding `entries`. */
async function plantedFolder(
  entries: (dir: string, first: number) => Record<string, unknown>[],
): Promise<{ dir: string; file: string; port: number }> {
  const dir = await Deno.makeTempDir({ prefix: "pvw-launcher-test-" });
  const config = specConfig(dir, { echo: { cmd: ECHO_APP } });
  const first = (config.resources as { port: number[] }[])[0].port[0];
  const file = join(dir, "launcher.config");
  await Deno.writeTextFile(file, JSON.stringify(config));
  await Deno.mkdir(join(dir, "logs"), { mode: 0o700 });
  const state = { version: 1, sessions: entries(dir, first) };
  await Deno.writeTextFile(join(dir, "pvw-launcher-state.json"), JSON.stringify(state));
  return { dir, file, port: first };
}

/** A process group of the test's own, as `setsid` makes one: its leader's pid. */
function ownGroup(script: string): Deno.ChildProcess {
  return new Deno.Command("setsid", { args: ["sh", "-c", script], stdout: "piped" }).spawn();
}

async function firstLine(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await within(10_000, "a line", reader.read());
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.trim();
}

Deno.test("a planted or stale state entry that is not exactly a session is neither adopted nor signalled", async () => {
  // Two group leaders and a process that leads no group, all the test's own.
  const leaderA = ownGroup("exec sleep 600");
  const leaderB = ownGroup("exec sleep 600");
  const tree = ownGroup("sleep 600 & echo $!; wait");
  const member = Number(await firstLine(tree));
  const secret = await Deno.makeTempFile();
  await Deno.writeTextFile(secret, "root:$6$not-for-the-dashboard\n");
  const { dir, file } = await plantedFolder((dir, port) => {
    const log = (id: string) => join(dir, "logs", `${id}.log`);
    return [
      entry("logElsewhere", {
        pid: leaderA.pid,
        identity: startTime(leaderA.pid),
        port,
        logFile: secret,
      }),
      entry("portElsewhere", {
        pid: leaderB.pid,
        identity: startTime(leaderB.pid),
        host: "10.1.2.3",
        port: 22,
        logFile: log("portElsewhere"),
      }),
      entry("notALeader", {
        pid: member,
        identity: startTime(member),
        port: port + 1,
        logFile: log("notALeader"),
      }),
      entry("noPid", { pid: 0, identity: "0", port: port + 2, logFile: log("noPid") }),
      entry("../../escape", {
        pid: leaderA.pid,
        identity: startTime(leaderA.pid),
        port: port + 3,
        logFile: join(dir, "logs", "../../escape.log"),
      }),
    ];
  });
  let launcher: Launcher | undefined;
  try {
    launcher = await launchOn(dir, file);
    assert.match(launcher.log, /adopted 0 sessions, dropped 5/);
    for (const id of ["logElsewhere", "portElsewhere", "notALeader", "noPid"]) {
      assert.equal((await launcher.request("GET", `${launcher.endpoint}/${id}`)).status, 404, id);
      const del = await launcher.request("DELETE", `${launcher.endpoint}/${id}`);
      assert.equal(del.status, 404, id);
    }
    assert.equal((await launcher.stop()).code, 0);
    for (const [name, pid] of [["A", leaderA.pid], ["B", leaderB.pid], ["member", member]]) {
      assert.ok(processRuns(pid as number), `process ${name} was signalled`);
    }
  } finally {
    if (launcher) await launcher.stop();
    for (const child of [leaderA, leaderB, tree]) {
      try {
        Deno.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
      await child.stdout.cancel().catch(() => {});
    }
    await Deno.remove(secret);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: 'a state entry with "pid": 1 never makes the launcher signal every process (kill(-1))',
  ignore: NO_NAMESPACES,
  fn: async () => {
    checkNamespaces();
    const { dir, file, port } = await plantedFolder(() => []);
    const state = join(dir, "pvw-launcher-state.json");
    // In the namespace the launcher is PID 1: the entry names it with its true start time,
    // which any local user can read in /proc/1/stat.
    const plant = `starttime=$(sed 's/.*) //' /proc/1/stat | cut -d' ' -f20)
printf '{"version":1,"sessions":[{"id":"init","application":"echo","host":"127.0.0.1","port":${port},"pid":1,"identity":"%s","logFile":"%s","startedAt":1,"readyMs":1,"answer":{"id":"init"}}]}' "$starttime" "${dir}/logs/init.log" > "${state}"
exec "$@"`;
    let launcher: Launcher | undefined;
    try {
      launcher = await launchOn(dir, file, [], {
        wrap: [...PID_NAMESPACE, "sh", "-c", plant, "sh"],
        forks: true,
      });
      // A session in the namespace: what kill(-1) would take down with everything else.
      const bystander = await launcher.post({ application: "echo" });
      assert.equal(bystander.status, 200);
      await launcher.request("DELETE", `${launcher.endpoint}/init`);
      const get = await launcher.request("GET", `${launcher.endpoint}/${bystander.json.id}`);
      assert.equal(get.status, 200, "the other session still runs");
      assert.match(launcher.log, /adopted 0 sessions, dropped 1/);
      assert.match(launcher.log, /state entry init is not adopted: pid 1 is no session's/);
      assert.equal((await launcher.request("GET", `${launcher.endpoint}/init`)).status, 404);
      assert.equal((await launcher.stop()).code, 0);
    } finally {
      await launcher?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the spawner never signals process group 0 or 1, whatever it is asked",
  ignore: NO_NAMESPACES,
  fn: async () => {
    checkNamespaces();
    // Run as PID 1 of a namespace with one bystander: kill(0) or kill(-1) would end it.
    const script = `
import { createProcessSpawner } from ${
      JSON.stringify(new URL("../../lib/os/mod.ts", import.meta.url).href)
    };
const bystander = new Deno.Command("sleep", { args: ["600"] }).spawn();
const spawner = createProcessSpawner();
const outcomes = [];
for (const pgid of [1, 0, -1]) {
  for (const signal of ["SIGTERM", "SIGKILL"]) {
    try {
      spawner.signalGroup(pgid, signal);
      outcomes.push("signalled");
    } catch (err) {
      outcomes.push(err.name);
    }
  }
}
const stat = Deno.readTextFileSync("/proc/" + bystander.pid + "/stat");
console.log(JSON.stringify({ outcomes, bystander: stat.slice(stat.lastIndexOf(")") + 2)[0] }));
bystander.kill("SIGKILL");
await bystander.status;
`;
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    try {
      await Deno.writeTextFile(file, script);
      const run = await new Deno.Command(PID_NAMESPACE[0], {
        args: [
          ...PID_NAMESPACE.slice(1),
          Deno.execPath(),
          "run",
          "--quiet",
          "-A",
          // The script lives outside the repository: the import map comes from its config.
          "--config",
          "deno.json",
          file,
        ],
        cwd: new URL("../..", import.meta.url).pathname,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(run.stdout);
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, `the namespace was killed (kill(0) or kill(-1)?): ${stderr}`);
      const { outcomes, bystander } = JSON.parse(out);
      assert.deepEqual(outcomes, Array(6).fill("RangeError"));
      assert.notEqual(bystander, "Z", "the bystander was killed");
    } finally {
      await Deno.remove(file);
    }
  },
});
