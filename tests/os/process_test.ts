import assert from "node:assert/strict";
import { join } from "node:path";
import { LaunchError } from "../../lib/errors/mod.ts";
import {
  createProcessSpawner,
  type ExitStatus,
  type ProcessHandle,
  type Spawner,
  type SpawnRequest,
} from "../../lib/os/process.ts";
import { FakeSpawner } from "../fakes.ts";
import { within } from "../integration/harness.ts";

const DEADLINE_MS = 10_000;

/** Programs that every spawner under test can run. */
type Program =
  /** Prints a ready line and runs until signalled. */
  | "serve"
  /** Prints `bye` and exits with code 3. */
  | "print-and-exit"
  /** A command that does not exist. */
  | "missing";

/** A spawner under test, with the requests that run each program on it. */
interface Subject extends AsyncDisposable {
  spawner: Spawner;
  request(program: Program): SpawnRequest;
  /** What the process of `request` printed, once it has exited. */
  output(request: SpawnRequest): Promise<string>;
  /** Waits until the `serve` process of `request` printed its ready line. */
  started(request: SpawnRequest): Promise<void>;
}

/** Records every process spawned, so that disposal can kill whatever a failed test left. */
function tracked(spawner: Spawner): { spawner: Spawner; stopAll(): Promise<void> } {
  const handles: ProcessHandle[] = [];
  return {
    spawner: {
      async spawn(request) {
        const handle = await spawner.spawn(request);
        handles.push(handle);
        return handle;
      },
      signalGroup: (pgid, signal) => spawner.signalGroup(pgid, signal),
      groupAlive: (pgid) => spawner.groupAlive(pgid),
      identity: (pid) => spawner.identity(pid),
      adopt: (pid, identity) => spawner.adopt(pid, identity),
      close: () => spawner.close(),
    },
    async stopAll() {
      for (const h of handles) spawner.signalGroup(h.pid, "SIGKILL");
      await Promise.all(handles.map((h) => h.exited));
      spawner.close();
    },
  };
}

async function realSubject(): Promise<Subject> {
  const dir = await Deno.makeTempDir({ prefix: "pvw-process-test-" });
  const { spawner, stopAll } = tracked(createProcessSpawner());
  const scripts: Record<Exclude<Program, "missing">, string> = {
    serve: "echo Starting factory; exec sleep 600",
    "print-and-exit": "echo bye; exit 3",
  };
  let n = 0;
  return {
    spawner,
    request(program) {
      const logFile = join(dir, `${n++}.log`);
      const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
      return program === "missing"
        ? { command: join(dir, "no-such-command"), args: [], env, logFile }
        : { command: "sh", args: ["-c", scripts[program]], env, logFile };
    },
    output: (request) => Deno.readTextFile(request.logFile),
    started: async (request) => void await written(request.logFile, /Starting factory/),
    async [Symbol.asyncDispose]() {
      await stopAll();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function fakeSubject(): Promise<Subject> {
  const fake = new FakeSpawner({
    serve: (p) => p.print("Starting factory\n"),
    "print-and-exit": (p) => {
      p.print("bye\n");
      p.exit({ code: 3, signal: null });
    },
  });
  const { spawner, stopAll } = tracked(fake);
  let n = 0;
  return Promise.resolve({
    spawner,
    request: (program) => ({ command: program, args: [], env: {}, logFile: `/fake/${n++}.log` }),
    output: (request) =>
      Promise.resolve(fake.processes.find((p) => p.request === request)?.output ?? ""),
    started: () => Promise.resolve(),
    [Symbol.asyncDispose]: stopAll,
  });
}

/** Waits for a process to exit, failing after the deadline. */
const exitOf = (handle: ProcessHandle): Promise<ExitStatus> =>
  within(DEADLINE_MS, `process ${handle.pid} to exit`, handle.exited);

const SUBJECTS: [name: string, make: () => Promise<Subject>][] = [
  ["createProcessSpawner()", realSubject],
  ["FakeSpawner", fakeSubject],
];

for (const [name, make] of SUBJECTS) {
  Deno.test(`${name}: spawn() starts the program, its output reaches its log, exited reports its exit code`, async () => {
    await using subject = await make();
    const request = subject.request("print-and-exit");
    const handle = await subject.spawner.spawn(request);
    assert.ok(Number.isInteger(handle.pid) && handle.pid > 0, `pid ${handle.pid}`);
    assert.deepEqual(await exitOf(handle), { code: 3, signal: null });
    assert.equal(await subject.output(request), "bye\n");
    assert.equal(subject.spawner.groupAlive(handle.pid), false);
  });

  Deno.test(`${name}: signalGroup() ends a running process and exited reports the signal`, async (t) => {
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      await t.step(signal, async () => {
        await using subject = await make();
        const handle = await subject.spawner.spawn(subject.request("serve"));
        assert.equal(subject.spawner.groupAlive(handle.pid), true, "alive while it runs");
        subject.spawner.signalGroup(handle.pid, signal);
        assert.deepEqual(await exitOf(handle), { code: null, signal });
        assert.equal(subject.spawner.groupAlive(handle.pid), false, "gone after it exited");
      });
    }
  });

  Deno.test(`${name}: signalGroup() ends only the group it names`, async () => {
    await using subject = await make();
    const first = await subject.spawner.spawn(subject.request("serve"));
    const second = await subject.spawner.spawn(subject.request("serve"));
    assert.notEqual(first.pid, second.pid);
    subject.spawner.signalGroup(first.pid, "SIGTERM");
    await exitOf(first);
    assert.equal(subject.spawner.groupAlive(second.pid), true);
    subject.spawner.signalGroup(second.pid, "SIGTERM");
    assert.deepEqual(await exitOf(second), { code: null, signal: "SIGTERM" });
  });

  Deno.test(`${name}: signalGroup() of a group that has ended is no error`, async () => {
    await using subject = await make();
    const handle = await subject.spawner.spawn(subject.request("print-and-exit"));
    await exitOf(handle);
    subject.spawner.signalGroup(handle.pid, "SIGTERM");
    subject.spawner.signalGroup(handle.pid, "SIGKILL");
    assert.equal(subject.spawner.groupAlive(handle.pid), false);
  });

  Deno.test(`${name}: identity() names a running process, and nothing once it has exited`, async () => {
    await using subject = await make();
    const handle = await subject.spawner.spawn(subject.request("serve"));
    const identity = subject.spawner.identity(handle.pid);
    assert.equal(typeof identity, "string");
    assert.equal(subject.spawner.identity(handle.pid), identity, "the same while it runs");
    subject.spawner.signalGroup(handle.pid, "SIGTERM");
    await exitOf(handle);
    assert.equal(subject.spawner.identity(handle.pid), undefined);
  });

  Deno.test(`${name}: adopt() watches a running process of that pid and identity until it ends`, async () => {
    await using subject = await make();
    const request = subject.request("serve");
    const handle = await subject.spawner.spawn(request);
    // Adopted processes are long started: this one leads its group once it has printed.
    await subject.started(request);
    const identity = subject.spawner.identity(handle.pid)!;
    assert.equal(subject.spawner.adopt(handle.pid, `${identity}0`), undefined, "another identity");
    const adopted = subject.spawner.adopt(handle.pid, identity);
    assert.equal(adopted?.pid, handle.pid);
    subject.spawner.signalGroup(handle.pid, "SIGTERM");
    await exitOf(handle);
    await within(DEADLINE_MS, "the adopted process to be seen gone", adopted!.exited);
    assert.equal(subject.spawner.adopt(handle.pid, identity), undefined, "nothing to adopt now");
  });

  Deno.test(`${name}: spawn() of a missing command rejects with LaunchError "spawn_error"`, async () => {
    await using subject = await make();
    const request = subject.request("missing");
    await assert.rejects(subject.spawner.spawn(request), (err) => {
      assert.ok(err instanceof LaunchError, `expected LaunchError, got ${err}`);
      assert.equal(err.reason, "spawn_error");
      assert.equal(err.message, `command "${request.command}" was not found`);
      return true;
    });
  });
}

// What only the real spawner can show: files, process groups, the operating system.

/** A temp folder and the real spawner; disposal kills what is left and removes the folder. */
async function real() {
  const dir = await Deno.makeTempDir({ prefix: "pvw-process-test-" });
  const { spawner, stopAll } = tracked(createProcessSpawner());
  const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  return {
    dir,
    spawner,
    /** A request to run `sh -c script` with its log in the folder. */
    sh: (script: string, extra: Partial<SpawnRequest> = {}): SpawnRequest => ({
      command: "sh",
      args: ["-c", script],
      env,
      logFile: join(dir, "session.log"),
      ...extra,
    }),
    async [Symbol.asyncDispose]() {
      await stopAll();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Waits, by file events, until `file` holds text matching `pattern`; that text. */
async function written(file: string, pattern: RegExp): Promise<string> {
  const watcher = Deno.watchFs(file);
  try {
    return await within(
      DEADLINE_MS,
      `${pattern} in ${file}`,
      (async () => {
        const events = watcher[Symbol.asyncIterator]();
        for (;;) {
          const text = await Deno.readTextFile(file);
          if (pattern.test(text)) return text;
          await events.next();
        }
      })(),
    );
  } finally {
    watcher.close();
  }
}

/** The fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, session, ...]. */
function procStat(pid: number): string[] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

Deno.test("createProcessSpawner(): the child writes its stdout and stderr into the log file itself", async (t) => {
  await using env = await real();
  await t.step("both streams, in the order written", async () => {
    const request = env.sh("echo out; echo err >&2; echo out again");
    await exitOf(await env.spawner.spawn(request));
    assert.equal(await Deno.readTextFile(request.logFile), "out\nerr\nout again\n");
  });
  await t.step("its fds 1 and 2 are the file; the launcher keeps no descriptor of it", async () => {
    const request = env.sh("exec sleep 600");
    const handle = await env.spawner.spawn(request);
    assert.equal(Deno.readLinkSync(`/proc/${handle.pid}/fd/1`), request.logFile);
    assert.equal(Deno.readLinkSync(`/proc/${handle.pid}/fd/2`), request.logFile);
    const ours = [...Deno.readDirSync("/proc/self/fd")].map((e) => {
      try {
        return Deno.readLinkSync(`/proc/self/fd/${e.name}`);
      } catch {
        return "";
      }
    });
    assert.ok(!ours.includes(request.logFile), "the launcher closed its copy");
    env.spawner.signalGroup(handle.pid, "SIGTERM");
    await exitOf(handle);
  });
});

Deno.test("createProcessSpawner(): the log file is created with mode 0600, or truncated", async (t) => {
  await using env = await real();
  const request = env.sh("echo new");
  await t.step("created 0600", async () => {
    await exitOf(await env.spawner.spawn(request));
    assert.equal((await Deno.stat(request.logFile)).mode! & 0o777, 0o600);
  });
  await t.step("an existing file is truncated", async () => {
    await Deno.writeTextFile(request.logFile, "an older, longer log\n".repeat(10));
    await exitOf(await env.spawner.spawn(request));
    assert.equal(await Deno.readTextFile(request.logFile), "new\n");
  });
});

Deno.test("createProcessSpawner(): spawn() never follows a link, empties another file or waits on a FIFO at the log path", async (t) => {
  await using env = await real();
  const victim = join(env.dir, "victim");
  const cases: [string, (logFile: string) => Promise<void>, RegExp][] = [
    ["a symbolic link", (log) => Deno.symlink(victim, log), /is a symbolic link, not a regular/],
    ["a hard link", (log) => Deno.link(victim, log), /is a hard link to another file/],
    [
      "a FIFO, read by someone",
      async (log) => {
        const made = await new Deno.Command("mkfifo", { args: [log] }).output();
        assert.ok(made.success);
        // The reader lets an open for writing through, where it would otherwise hang.
        readers.push(
          new Deno.Command("sh", { args: ["-c", 'exec cat "$0" > /dev/null', log] }).spawn(),
        );
      },
      // Refused at the open when no reader is there yet, after it when one is.
      /is a (FIFO|special file), not a regular file/,
    ],
  ];
  const readers: Deno.ChildProcess[] = [];
  try {
    for (const [name, plant, message] of cases) {
      await t.step(name, async () => {
        await Deno.writeTextFile(victim, "precious\n");
        const request = env.sh("echo clobbered", { logFile: join(env.dir, `${name}.log`) });
        await plant(request.logFile);
        await assert.rejects(env.spawner.spawn(request), (err) => {
          assert.ok(err instanceof LaunchError, String(err));
          assert.equal(err.reason, "spawn_error");
          assert.match(err.message, message);
          return true;
        });
        assert.equal(await Deno.readTextFile(victim), "precious\n", "the other file is untouched");
      });
    }
  } finally {
    for (const r of readers) {
      try {
        r.kill("SIGKILL");
      } catch {
        // it read our end closing and exited
      }
      await r.status;
    }
  }
});

Deno.test("createProcessSpawner(): adopt() takes only a process that leads its own group, never pid 1", async () => {
  await using env = await real();
  const handle = await env.spawner.spawn(env.sh("sleep 600 & echo $!; wait"));
  const member = Number((await written(env.sh("").logFile, /\d+\n/)).trim());
  const identity = (pid: number) => procStat(pid)[19];
  assert.equal(procStat(member)[2], String(handle.pid), "the child is in the session's group");
  assert.equal(env.spawner.adopt(member, identity(member)), undefined, "a member, not a leader");
  assert.equal(env.spawner.adopt(1, identity(1)), undefined, "init");
  const leader = env.spawner.adopt(handle.pid, identity(handle.pid));
  assert.equal(leader?.pid, handle.pid);
  assert.equal(leader?.identity, identity(handle.pid));
  env.spawner.signalGroup(handle.pid, "SIGKILL");
  await exitOf(handle);
});

Deno.test("createProcessSpawner(): signalGroup() leaves a group alone when its leader's pid is another process now", async () => {
  await using env = await real();
  const handle = await env.spawner.spawn(env.sh("exec sleep 600"));
  assert.equal(handle.identity, procStat(handle.pid)[19], "the handle knows its start time");
  // As if the session's process had ended and its pid gone to a new process.
  env.spawner.signalGroup(handle.pid, "SIGKILL", `${handle.identity}0`);
  assert.ok(env.spawner.groupAlive(handle.pid), "not signalled");
  env.spawner.signalGroup(handle.pid, "SIGKILL", handle.identity);
  await exitOf(handle);
});

Deno.test("createProcessSpawner(): the child leads its own process group and session", async () => {
  await using env = await real();
  // A FIFO tells the test, without polling, when the program itself (after `setsid`) runs.
  const fifo = join(env.dir, "running.fifo");
  assert.equal((await new Deno.Command("mkfifo", { args: [fifo] }).output()).code, 0);
  const opening = Deno.open(fifo, { read: true });
  const handle = await env.spawner.spawn(env.sh('exec sleep 600 > "$1"', {
    args: ["-c", 'exec sleep 600 > "$1"', "sh", fifo],
  }));
  (await within(5000, "the program to run", opening)).close();
  const [, ppid, pgrp, session] = procStat(handle.pid).map(Number);
  assert.equal(ppid, Deno.pid, "our child");
  assert.equal(pgrp, handle.pid, "process group id = pid");
  assert.equal(session, handle.pid, "session id = pid: no controlling terminal of ours");
  assert.notEqual(Number(procStat(Deno.pid)[2]), handle.pid);
  env.spawner.signalGroup(handle.pid, "SIGTERM");
  await exitOf(handle);
});

Deno.test("createProcessSpawner(): signalGroup() reaches a grandchild in the group", async () => {
  await using env = await real();
  // The grandchild holds the write end of a FIFO: the test sees it start (the FIFO opens)
  // and end (end of file) as events, without polling.
  const fifo = join(env.dir, "grandchild.fifo");
  const mkfifo = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.equal(mkfifo.code, 0);
  const opening = Deno.open(fifo, { read: true });
  const script = 'sleep 600 > "$1" & echo Starting factory; wait';
  const handle = await env.spawner.spawn(env.sh("", { args: ["-c", script, "sh", fifo] }))
    .catch(async (err) => {
      (await Deno.open(fifo, { write: true })).close(); // unblock the reader
      (await opening).close();
      throw err;
    });
  const reader = await within(DEADLINE_MS, "the grandchild to open the FIFO", opening);
  try {
    env.spawner.signalGroup(handle.pid, "SIGTERM");
    assert.deepEqual(await exitOf(handle), { code: null, signal: "SIGTERM" });
    const n = await within(DEADLINE_MS, "the grandchild to end", reader.read(new Uint8Array(1)));
    assert.equal(n, null, "the FIFO reached its end: the grandchild is gone");
  } finally {
    reader.close();
  }
});

Deno.test("createProcessSpawner(): cwd and env are applied, and env is the whole environment", async (t) => {
  await using env = await real();
  await t.step("cwd", async () => {
    const cwd = join(env.dir, "work dir");
    await Deno.mkdir(cwd);
    const request = env.sh("pwd", { cwd });
    await exitOf(await env.spawner.spawn(request));
    assert.equal(await Deno.readTextFile(request.logFile), `${await Deno.realPath(cwd)}\n`);
  });
  await t.step("env", async () => {
    const request: SpawnRequest = {
      command: "env",
      args: [],
      env: { PATH: "/usr/bin:/bin", PVW_TEST: "a b=c" },
      logFile: join(env.dir, "env.log"),
    };
    await exitOf(await env.spawner.spawn(request));
    const lines = (await Deno.readTextFile(request.logFile)).trimEnd().split("\n").sort();
    assert.deepEqual(lines, ["PATH=/usr/bin:/bin", "PVW_TEST=a b=c"]);
  });
});

Deno.test("createProcessSpawner(): spawn() explains why a command cannot start", async (t) => {
  await using env = await real();
  const script = join(env.dir, "app.sh");
  await Deno.writeTextFile(script, "#!/bin/sh\necho hi\n", { mode: 0o644 });
  await Deno.chmod(script, 0o644);
  const cases: [name: string, request: () => SpawnRequest, message: RegExp][] = [
    [
      "a file that is not executable",
      () => env.sh("", { command: script, args: [] }),
      /^command ".*app\.sh" is not executable$/,
    ],
    [
      "a directory",
      () => env.sh("", { command: env.dir, args: [] }),
      /^command ".*" is not executable$/,
    ],
    [
      "a missing working directory",
      () => env.sh("true", { cwd: join(env.dir, "gone") }),
      /^working directory ".*gone" does not exist$/,
    ],
    [
      "a missing command",
      () => env.sh("", { command: "pvw-no-such-command", args: [] }),
      /^command "pvw-no-such-command" was not found$/,
    ],
  ];
  for (const [name, request, message] of cases) {
    await t.step(name, async () => {
      await assert.rejects(env.spawner.spawn(request()), (err) => {
        assert.ok(err instanceof LaunchError, `expected LaunchError, got ${err}`);
        assert.equal(err.reason, "spawn_error");
        assert.match(err.message, message);
        return true;
      });
    });
  }
});

Deno.test("createProcessSpawner(): a signal sent right after spawn() reaches the process", async () => {
  await using env = await real();
  // Before `setsid` has run there is no group yet; the signal must not be lost then.
  for (let i = 0; i < 30; i++) {
    const handle = await env.spawner.spawn(
      env.sh("exec sleep 600", { logFile: join(env.dir, `${i}.log`) }),
    );
    env.spawner.signalGroup(handle.pid, "SIGKILL");
    const status = await within(5000, "the exit", handle.exited);
    assert.equal(status.signal, "SIGKILL");
    assert.equal(env.spawner.groupAlive(handle.pid), false);
  }
});
