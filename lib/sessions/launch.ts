/**
 * Starting a session's process and waiting, event-driven, for its ready line, its exit or
 * its timeout, whichever comes first; then publishing the ready session in the map file and
 * the state file.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { AppConfig } from "../config/mod.ts";
import { LaunchError } from "../errors/mod.ts";
import { LineMatcher } from "./line_matcher.ts";
import {
  type ExitStatus,
  type Follow,
  type LogFollower,
  type SessionMap,
  type Spawner,
  timer,
  whenAborted,
} from "../os/mod.ts";
import { describeExit, type SessionRecord } from "./record.ts";

/** What starting a process needs. */
export interface LaunchContext {
  /** Starts the process. */
  spawner: Spawner;
  /** Follows its log for the ready line. */
  follower: LogFollower;
  /** The environment it starts from. */
  baseEnv: Record<string, string>;
  /** Whether the launcher is shutting down (an exit is then not the app's fault). */
  closing: () => boolean;
  /** Called when the process exits, whenever that is. */
  onExit: (status: ExitStatus) => void;
  /** Called once the process is spawned and the record has its pid, to record it at once. */
  onSpawned?: () => void;
}

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/**
 * Spawns a session's process and waits until it printed a ready line. Fills in the
 * record's `pid`, `identity`, `proc` and `spawned`.
 *
 * @param rec the session, in state `starting`
 * @param app its application
 * @param argv the rendered command line
 * @param ctx what starting needs
 * @throws {LaunchError} when it cannot start, exits first, or times out
 */
export async function spawnUntilReady(
  rec: SessionRecord,
  app: AppConfig,
  argv: string[],
  ctx: LaunchContext,
): Promise<void> {
  const { ready, follow } = followReadyLine(ctx.follower, rec.logFile, app);
  try {
    const spawning = ctx.spawner.spawn({
      command: argv[0],
      args: argv.slice(1),
      cwd: app.dir,
      env: { ...ctx.baseEnv, PYTHONUNBUFFERED: "1", ...app.env },
      logFile: rec.logFile,
    });
    rec.spawned = spawning.catch(() => undefined);
    const proc = await spawning;
    rec.proc = proc;
    rec.pid = proc.pid;
    rec.identity = proc.identity ?? ctx.spawner.identity(proc.pid);
    proc.exited.then(ctx.onExit);
    ctx.onSpawned?.();
    follow.drain().catch(() => {});
    const wait = timer(app.timeoutMs);
    const halted = whenAborted(rec.halt.signal);
    const outcome = await Promise.race([ready, proc.exited, wait.promise, halted]);
    wait.cancel();
    if (outcome !== "ready") throw notReady(rec, app, outcome, ctx.closing());
  } finally {
    follow.close();
  }
}

/**
 * Follows a session's log until one of its application's ready lines appears in it.
 *
 * @param follower the log follower
 * @param logFile the session's log
 * @param app its application
 * @returns the follow (the caller closes it) and a promise that resolves once a line is seen
 */
export function followReadyLine(
  follower: LogFollower,
  logFile: string,
  app: AppConfig,
): { ready: Promise<"ready">; follow: Follow } {
  const matcher = new LineMatcher(app.readyLines);
  const ready = Promise.withResolvers<"ready">();
  const follow = follower.follow(logFile, (chunk) => {
    if (matcher.push(chunk) !== undefined) ready.resolve("ready");
  });
  return { ready: ready.promise, follow };
}

/** An application's ready lines, as an error message quotes them. */
export function readyLinesText(app: AppConfig): string {
  return app.readyLines.map((l) => JSON.stringify(l)).join(" or ");
}

/**
 * What a log record may say of a session: not its answer, which holds the client's values
 * under names of the client's choosing, which no key-name filter can vet.
 */
function logged(rec: SessionRecord) {
  const { id, application, host, port, pid, logFile } = rec;
  return { id, application, host, port, pid, logFile };
}

function notReady(
  rec: SessionRecord,
  app: AppConfig,
  outcome: ExitStatus | "timeout" | "halted",
  closing: boolean,
): LaunchError {
  if (closing || outcome === "halted" || rec.halt.signal.aborted) return stoppedError(rec, closing);
  const name = `application "${rec.application}"`;
  if (outcome === "timeout") {
    const lines = readyLinesText(app);
    logger().warn("session {id} of {application} timed out; its output is in {logFile}", {
      ...logged(rec),
    });
    return new LaunchError(
      `${name} printed no ready line (${lines}) within ${app.timeoutMs / 1000} s and was stopped`,
      "timeout",
    );
  }
  logger().warn("session {id} of {application} {how} before it was ready; see {logFile}", {
    ...logged(rec),
    how: describeExit(outcome),
  });
  return new LaunchError(
    `${name} ${describeExit(outcome)} before it was ready`,
    "exited",
    outcome.code,
    outcome.signal,
  );
}

/** Where a ready session is published before its client is answered. */
export interface PublishTargets {
  /** The map file, if the config names one. */
  map?: SessionMap;
  /** Saves the table (the state file), durably. */
  persist: (durable: boolean) => Promise<void>;
}

/**
 * Writes a session that printed its ready line into the map file and the state file: until
 * then GET, DELETE and the proxy do not find it, and no client has its answer.
 *
 * @param rec the session, whose process printed its ready line
 * @param targets the map file and the state file
 * @throws {LaunchError} when either cannot be written, when the process exited meanwhile, or
 *   when the launcher began ending the session
 */
export async function publish(rec: SessionRecord, targets: PublishTargets): Promise<void> {
  // Stopped before it was published: nothing may name it now (its end removes no map line
  // that it did not know of, and frees its port).
  if (rec.halt.signal.aborted) throw stoppedError(rec);
  rec.mapped = targets.map !== undefined;
  const [mapped, saved] = await Promise.allSettled([
    targets.map?.set(rec.id, `${rec.host}:${rec.port}`),
    targets.persist(true),
  ]);
  if (mapped.status === "rejected") {
    logger().error("cannot write the map file: {error}", { error: String(mapped.reason) });
    throw new LaunchError("the launcher could not write its map file", "map_error");
  }
  if (saved.status === "rejected") {
    logger().error("cannot write the state file: {error}", { error: String(saved.reason) });
    throw new LaunchError("the launcher could not write its state file", "state_error");
  }
  if (rec.exitStatus) {
    throw new LaunchError(
      `application "${rec.application}" ${describeExit(rec.exitStatus)} right after it was ready`,
      "exited",
      rec.exitStatus.code,
      rec.exitStatus.signal,
    );
  }
  if (rec.halt.signal.aborted) throw stoppedError(rec);
}

/**
 * The error of a launch stopped before its session was ready (its halt signal aborts when
 * its end begins).
 *
 * @param rec the session
 * @param closing whether the launcher is shutting down (the reason then)
 * @returns the error, of reason `stopped`
 */
export function stoppedError(rec: SessionRecord, closing = false): LaunchError {
  if (closing) return new LaunchError("the launcher is shutting down", "stopped");
  return new LaunchError(
    `application "${rec.application}" was stopped before it was ready`,
    "stopped",
  );
}
