/**
 * Keeps every session log within `max_log_size`. A session's process writes its log itself,
 * through a descriptor it holds (so that it outlives the launcher), and the launcher cannot
 * stand between it and the file: instead, when a log passes the limit, its older half is
 * dropped from the start of the file while the process goes on appending at its end.
 *
 * How, in order of preference: `fallocate(COLLAPSE_RANGE)` removes the start in place,
 * atomically with respect to the appending process (ext4, XFS); else `PUNCH_HOLE` frees the
 * start's disk space (tmpfs, btrfs), the file's size going on growing over a hole that reads
 * as zeros; else the newest half is copied and the file emptied (output written at that very
 * moment may be lost), which is never done to a log whose ready line is still awaited. A log
 * written from another host (a Slurm job's, through NFS) is only ever punched: a remote
 * writer appends at the size it remembers, so its file must never shrink; where punching is
 * not supported it is not capped, and the log says so.
 *
 * The ready line is never lost: of a starting session's log only what its follower has read
 * is dropped. Logs are checked by a timer, not at every write (an app that writes without
 * pause would make the launcher measure its log thousands of times a second): every live log
 * once a second, and a log that had to be trimmed every 100 ms until it no longer grows past
 * the limit between two checks.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { basename } from "node:path";
import type { LogTrimmer } from "../os/mod.ts";

/** How far the follower of a starting session's log has read it ({@linkcode DirectoryFollower}). */
export interface ReadPositions {
  /** Bytes of the file read so far, or undefined when no one follows it. */
  consumed(path: string): number | undefined;
  /** The first `bytes` of the file were removed. */
  collapsed(path: string, bytes: number): void;
}

/** How the cap is set up. */
export interface LogCapOptions {
  /** Most bytes a log may hold. */
  maxBytes: number;
  /** The logs of the live sessions. */
  files: () => Iterable<string>;
  /** Drops the start of a file. */
  trimmer: LogTrimmer;
  /** The follower, whose unread bytes must stay. */
  positions: ReadPositions;
  /**
   * Whether a log's writer runs on another host (a Slurm job's, through a shared
   * filesystem): such a log is never rewritten, as a remote NFS client appending at the size
   * it remembers would fill the emptied file with zeros. @default none
   */
  writtenElsewhere?: (path: string) => boolean;
  /** How often every live log is checked, in ms. @default 1000 */
  intervalMs?: number;
  /** How often a log that had to be trimmed is checked again, in ms. @default 100 */
  hotIntervalMs?: number;
}

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/** Keeps the live sessions' logs within the limit. */
export class LogCap {
  readonly #max: number;
  readonly #keep: number;
  readonly #options: LogCapOptions;
  readonly #live = new Map<string, string>();
  readonly #said = new Set<string>();
  /** How each log is trimmed, once a better way failed on it. */
  readonly #modes = new Map<string, "collapse" | "punch" | "rewrite" | "uncapped">();
  /** The logs trimmed at their last check: they are checked more often. */
  readonly #hot = new Set<string>();
  /** The logs being trimmed now. */
  readonly #busy = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #hotTimer: ReturnType<typeof setInterval> | undefined;

  /**
   * Makes the cap; {@linkcode LogCap.start} starts its periodic checks.
   *
   * @param options the limit, the live logs, how to trim, and the follower
   */
  constructor(options: LogCapOptions) {
    this.#options = options;
    this.#max = options.maxBytes;
    this.#keep = Math.floor(options.maxBytes / 2);
  }

  /** Checks every live log every `intervalMs`. */
  start(): void {
    this.#timer ??= setInterval(() => this.sweep(), this.#options.intervalMs ?? 1000);
  }

  /** Stops the periodic checks. */
  close(): void {
    clearInterval(this.#timer);
    clearInterval(this.#hotTimer);
    this.#timer = this.#hotTimer = undefined;
  }

  /**
   * Checks every live log (and forgets the logs of ended sessions).
   *
   * @returns settles once every check is done
   */
  async sweep(): Promise<void> {
    this.#refresh();
    await Promise.all([...this.#live.values()].map((path) => this.check(path)));
  }

  /** Checks the logs trimmed at their last check again. */
  #sweepHot(): void {
    for (const path of this.#hot) this.check(path);
    if (this.#hot.size === 0) {
      clearInterval(this.#hotTimer);
      this.#hotTimer = undefined;
    }
  }

  /**
   * Drops the older half of a log that holds more than the limit; a log being trimmed already
   * is left to that trim.
   *
   * @param path the log
   * @returns settles once it is done
   */
  async check(path: string): Promise<void> {
    if (this.#busy.has(path)) return;
    this.#busy.add(path);
    let trimmed;
    try {
      trimmed = await this.#trim(path);
    } finally {
      this.#busy.delete(path);
    }
    if (!trimmed) return void this.#hot.delete(path);
    this.#hot.add(path);
    // Only while the launcher runs its periodic checks (a test may check by hand).
    if (this.#timer !== undefined) {
      this.#hotTimer ??= setInterval(() => this.#sweepHot(), this.#options.hotIntervalMs ?? 100);
    }
  }

  /** Trims a log past the limit; whether it was past it. */
  async #trim(path: string): Promise<boolean> {
    const m = this.#options.trimmer.measure(path);
    if (!m) return false;
    // Written from another host: nothing may change its size under the writer's feet.
    const remote = this.#options.writtenElsewhere?.(path) ?? false;
    let mode = this.#modes.get(path) ?? (remote ? "punch" : "collapse");
    if (mode === "uncapped") return false;
    // A punched log's size goes on growing over the hole: what it takes on disk counts then.
    if ((mode === "punch" ? m.disk : m.size) <= this.#max) return false;
    const consumed = this.#options.positions.consumed(path);
    const cut = Math.floor(Math.min(m.size - this.#keep, consumed ?? Infinity) / m.block) * m.block;
    if (cut <= 0) return true;
    const { trimmer, positions } = this.#options;
    if (mode === "collapse") {
      // A followed log is collapsed before collapse() returns: its follower's position moves
      // with the file at once, before it can read again (undone if the collapse failed).
      const followed = consumed !== undefined;
      const collapsing = trimmer.collapse(path, cut, followed);
      if (followed) positions.collapsed(path, cut);
      if (await collapsing) return this.#say(path);
      if (followed) positions.collapsed(path, -cut);
      this.#modes.set(path, mode = "punch");
    }
    if (mode === "punch") {
      if (m.disk <= this.#max) return false;
      if (await trimmer.punch(path, cut)) return this.#say(path);
      if (remote) return this.#uncapped(path);
      this.#modes.set(path, mode = "rewrite");
    }
    // The last resort may lose what is written meanwhile: never while the follower still
    // needs every byte (it is done once the session is ready).
    if (consumed !== undefined) return true;
    const marker = "[pvw-launcher: older output dropped]\n";
    if (trimmer.rewrite(path, this.#keep, marker)) this.#say(path);
    return true;
  }

  /** A remote writer's log whose filesystem cannot free its start: it is left to grow. */
  #uncapped(path: string): false {
    this.#modes.set(path, "uncapped");
    logger().warn(
      `session ${basename(path, ".log")}'s log passed ${this.#max} bytes, but it is written ` +
        "from another host and its filesystem cannot free the start of a file: it is not capped",
    );
    return false;
  }

  #say(path: string): true {
    if (this.#said.has(path)) return true;
    this.#said.add(path);
    logger().info(
      `session ${basename(path, ".log")}'s log passed ${this.#max} bytes: its older output is ` +
        "dropped from now on (max_log_size)",
    );
    return true;
  }

  #refresh(): void {
    this.#live.clear();
    for (const path of this.#options.files()) this.#live.set(basename(path), path);
    for (const path of this.#said) if (!this.#live.has(basename(path))) this.#said.delete(path);
    for (const path of this.#modes.keys()) {
      if (!this.#live.has(basename(path))) this.#modes.delete(path);
    }
    for (const path of this.#hot) if (!this.#live.has(basename(path))) this.#hot.delete(path);
  }
}
