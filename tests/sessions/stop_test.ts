import assert from "node:assert/strict";
import { StopIncompleteError } from "../../lib/sessions/errors.ts";
import { createProcessSpawner, DirectoryFollower, type Spawner } from "../../lib/os/mod.ts";
import { PortPool } from "../../lib/sessions/port_pool.ts";
import { SessionManager } from "../../lib/sessions/manager.ts";
import { FakeMap, testConfig } from "../fakes.ts";

/** The real spawner, whose group signals fail on demand as kill() does on EPERM. */
function refusingSpawner(): { spawner: Spawner; refuse: (on: boolean) => void; real: Spawner } {
  const real = createProcessSpawner();
  let refusing = false;
  const spawner: Spawner = {
    spawn: (request) => real.spawn(request),
    signalGroup(pgid, signal, identity) {
      if (refusing) {
        throw Object.assign(new Error("kill EPERM"), { code: "EPERM", syscall: "kill" });
      }
      real.signalGroup(pgid, signal, identity);
    },
    groupAlive: (pgid) => real.groupAlive(pgid),
    identity: (pid) => real.identity(pid),
    adopt: (pid, identity) => real.adopt(pid, identity),
    close: () => real.close(),
  };
  return { spawner, refuse: (on) => refusing = on, real };
}

Deno.test("a stop whose group signalling throws takes the session out of the table, frees its port, and says so", async () => {
  const logDir = await Deno.realPath(await Deno.makeTempDir({ prefix: "pvw-stop-test-" }));
  const config = testConfig({
    logDir,
    apps: {
      viz: {
        name: "viz",
        cmd: ["sh", "-c", "echo Starting factory; exec sleep 600"],
        env: {},
        readyLines: ["Starting factory"],
        timeoutMs: 10_000,
        wsPath: "/ws",
        warm: 0,
      },
    },
  });
  const { spawner, refuse, real } = refusingSpawner();
  const follower = DirectoryFollower.open(logDir);
  const pool = new PortPool(config.resources);
  const sessions = new SessionManager({
    config,
    pool,
    spawner,
    follower,
    map: new FakeMap(),
    baseEnv: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  });
  const s = await sessions.launch({ application: "viz" });
  try {
    refuse(true);
    await assert.rejects(sessions.stop(s.id), (err) => {
      assert.ok(err instanceof StopIncompleteError, String(err));
      assert.equal(
        err.message,
        `session ${s.id} could not be stopped: its processes could not be signalled (kill ` +
          "EPERM); it was taken out of the table",
      );
      return true;
    });
    assert.equal(sessions.size, 0, "not left stopping for ever");
    assert.equal(pool.available, 3, "its port is free again");
    await assert.rejects(sessions.stop(s.id), /no session with id/);
  } finally {
    refuse(false);
    real.signalGroup(s.pid!, "SIGKILL");
    await sessions.stopAll();
    follower.close();
    await follower.closed();
    await Deno.remove(logDir, { recursive: true });
  }
});
