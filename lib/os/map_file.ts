/**
 * Keeps the Apache `RewriteMap txt:` file that routes `sessionId=<id>` to a session's
 * `host:port`: a `#` comment header, then one `<id> <host>:<port>` line per ready session
 * (two for an id with capitals: as is and lower-cased).
 *
 * Apache re-reads the file whenever its mtime changes, so it is never rewritten in place: each
 * version is written to a temporary file in the same folder and renamed over the map, and a
 * reader sees either the old file or the new one, never a mix. Changes that arrive while a
 * write is in flight are gathered into the next write: however many sessions start or stop at
 * once, at most one write runs and at most one more waits.
 *
 * @example
 * ```ts
 * import { MapFile } from "./map_file.ts";
 *
 * const map = new MapFile("/opt/trame/proxy-mapping.txt");
 * await map.set("3f2a", "127.0.0.1:9001"); // the file now routes 3f2a
 * await map.delete("3f2a");
 * await map.clear(); // at shutdown
 * ```
 *
 * @module
 */

import {
  CoalescedWriter,
  type FileWriter,
  type RetryOptions,
  writeFileAtomic,
  type WriteHealth,
} from "./atomic_file.ts";

/** The first line of every map file. */
export const MAP_FILE_HEADER =
  "# pvw-launcher session map: <session id> <host>:<port>; rewritten on every change";

export {
  type FileWriter,
  type RetryOptions,
  writeFileAtomic,
  type WriteHealth,
} from "./atomic_file.ts";

/**
 * Where the sessions' `<id> <host>:<port>` lines are published: what the session table needs
 * of the map file ({@linkcode MapFile} is the real one).
 */
export interface SessionMap {
  /** Adds or replaces a line; settles once it is published. */
  set(id: string, target: string): Promise<void>;
  /** Removes a line; settles once that is published. */
  delete(id: string): Promise<void>;
  /** Settles once the lines are published as they are now, however long that takes. */
  settled?(): Promise<void>;
}

/** Options of {@linkcode MapFile}. */
export interface MapFileOptions {
  /**
   * Replaces the file's content; tests pass a fake to count or hold writes.
   *
   * @default {@linkcode writeFileAtomic} with mode `0o640`
   */
  write?: FileWriter;
  /**
   * Try a failed write again until the file is true (a full disk), logging when writes start
   * failing and when one succeeds again. @default no retries
   */
  retry?: RetryOptions;
}

/**
 * The map's mode: its ids open the sessions to whoever knows them, so only the launcher's user
 * and the file's group (Apache's, given by a setgid folder) may read it.
 */
const MAP_MODE = 0o640;

/**
 * Apache re-reads a `txt:` map only when its modification time changes, and file times
 * move in coarse steps: two writes within one step would leave Apache on the older map.
 * So each new file gets a time at least 1 ms after the previous one.
 */
function monotonicWriter(): FileWriter {
  let last = 0;
  return (path, text) =>
    writeFileAtomic(path, text, MAP_MODE, (tmp) => {
      const now = Date.now();
      // Long after the last write the file's own time differs anyway: no extra syscall.
      if (now - last > 50) {
        last = now;
        return;
      }
      last = Math.max(now, last + 1);
      Deno.utimeSync(tmp, last / 1000, last / 1000);
    });
}

/** The map file of the ready sessions, rewritten atomically on every change. */
export class MapFile implements SessionMap {
  #entries = new Map<string, string>();
  #writer: CoalescedWriter;

  /**
   * Keeps the map at `path`, with no session yet.
   *
   * @param path the map file; its folder must exist. It is first written on the first change.
   * @param options how the file is written
   */
  constructor(path: string, options: MapFileOptions = {}) {
    const write: FileWriter = options.write ?? monotonicWriter();
    const retry = options.retry && { ...options.retry, what: "map file" };
    this.#writer = new CoalescedWriter(path, () => this.#render(), write, retry);
  }

  /** Whether the file is behind the sessions now (writes failing), and failures so far. */
  get health(): WriteHealth {
    return this.#writer.health;
  }

  /**
   * Waits until the file routes exactly the sessions it has now, however many retries that
   * takes (without `retry`, until a later call's write succeeds).
   *
   * @returns resolves once it does; never rejects
   */
  settled(): Promise<void> {
    return this.#writer.settled();
  }

  /** Stops retrying failed writes (at shutdown). */
  close(): void {
    this.#writer.close();
  }

  /** How many sessions the map routes. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Routes a session, or changes its route.
   *
   * @param id the session id, the map's key
   * @param target where the session listens, as `host:port`
   * @returns resolves once a file containing this change is in place
   * @throws {RangeError} when `id` or `target` is empty, holds white space, or `id` starts with `#`
   * @throws {Error} from the write, when the file cannot be written; a later call writes again
   */
  set(id: string, target: string): Promise<void> {
    try {
      checkToken("session id", id, true);
      checkToken("target", target, false);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#entries.set(id, target);
    return this.#requestWrite();
  }

  /**
   * Removes a session's route.
   *
   * @param id the session id
   * @returns resolves once a file without this session is in place
   * @throws {Error} from the write, when the file cannot be written; a later call writes again
   */
  delete(id: string): Promise<void> {
    this.#entries.delete(id);
    return this.#requestWrite();
  }

  /**
   * Removes every route, leaving only the header, as at shutdown.
   *
   * @returns resolves once the emptied file is in place
   * @throws {Error} from the write, when the file cannot be written; a later call writes again
   */
  clear(): Promise<void> {
    this.#entries.clear();
    return this.#requestWrite();
  }

  #requestWrite(): Promise<void> {
    return this.#writer.request();
  }

  #render(): string {
    let text = MAP_FILE_HEADER + "\n";
    for (const [id, target] of this.#entries) {
      text += `${id} ${target}\n`;
      // An id with capitals (from an older launcher) is also found lower-cased, as trame's
      // client and the shipped vhost's lookups ask for it.
      const folded = id.toLowerCase();
      if (folded !== id) text += `${folded} ${target}\n`;
    }
    return text;
  }
}

// Apache splits a line at white space and skips lines that start with `#`.
function checkToken(what: string, value: string, isKey: boolean): void {
  if (value === "" || /\s/.test(value) || (isKey && value.startsWith("#"))) {
    throw new RangeError(
      `a map file ${what} must be non-empty text without white space, got ${JSON.stringify(value)}`,
    );
  }
}
