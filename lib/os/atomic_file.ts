/**
 * Files replaced atomically (a temporary file in the same folder, then a rename), so a
 * reader such as Apache never sees half a file, durably when the file must survive a crash
 * of the machine too, and a writer that coalesces a burst of changes into as few writes as
 * possible.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { basename, dirname, join } from "node:path";

/**
 * Replaces a whole file's content.
 *
 * @param path the file to replace
 * @param text its new content
 * @param durable whether the new content must be on the disk, not only in place, when the
 *   promise settles (a writer may always be durable) @default true
 * @returns resolves once `path` holds `text`
 */
export type FileWriter = (path: string, text: string, durable?: boolean) => Promise<void>;

/**
 * Replaces a file atomically: writes a temporary `.<name>.<random>.tmp` in the same folder,
 * sets its mode, and renames it onto `path`. On failure the temporary file is removed.
 *
 * @param path the file to replace
 * @param text its new content
 * @param mode the file's permission bits, whatever the umask
 * @param prepare runs on the temporary file before it is renamed into place
 * @returns resolves once the new file is in place
 * @throws {Deno.errors.NotFound} and other file system errors, when the file cannot be written
 */
export function writeFileAtomic(
  path: string,
  text: string,
  mode = 0o644,
  prepare?: (tmp: string) => void,
): Promise<void> {
  // Synchronous calls: the files are small, and five async file operations cost more in
  // scheduling than the writing itself, on the path of every launch.
  const tmp = tempPath(path);
  try {
    Deno.writeTextFileSync(tmp, text, { createNew: true, mode });
    // The umask may have taken bits off the mode asked for; put them back.
    if (Deno.build.os !== "windows" && (mode & ~Deno.umask()) !== mode) Deno.chmodSync(tmp, mode);
    prepare?.(tmp);
    Deno.renameSync(tmp, path);
  } catch (err) {
    // The write's own error is the one worth reporting; a temp file that was never created
    // is not a second problem.
    try {
      Deno.removeSync(tmp);
    } catch {
      // never created
    }
    return Promise.reject(err);
  }
  return Promise.resolve();
}

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.tmp`);
}

/**
 * Replaces a file atomically and durably: the temporary file's data is flushed to the disk
 * (`fdatasync`) before it is renamed onto `path`, and the folder is flushed (`fsync`) after,
 * so that after a crash of the machine `path` holds either the old content or the new one,
 * never an empty or partial file. The flushes run off the event loop; the rest is
 * synchronous, as in {@linkcode writeFileAtomic}.
 *
 * @param path the file to replace
 * @param text its new content
 * @param mode the file's permission bits, whatever the umask
 * @returns resolves once the new file is in place and on the disk
 * @throws {Deno.errors.NotFound} and other file system errors (a full disk: the write's
 *   error), when the file cannot be written; the old file is then left as it was
 */
export async function writeFileDurably(path: string, text: string, mode = 0o600): Promise<void> {
  const tmp = tempPath(path);
  let file: Deno.FsFile | undefined;
  try {
    file = Deno.openSync(tmp, { write: true, createNew: true, mode });
    if (Deno.build.os !== "windows" && (mode & ~Deno.umask()) !== mode) Deno.chmodSync(tmp, mode);
    const bytes = new TextEncoder().encode(text);
    for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
    await file.syncData();
    file.close();
    file = undefined;
    Deno.renameSync(tmp, path);
  } catch (err) {
    file?.close();
    try {
      Deno.removeSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw err;
  }
  await syncFolder(dirname(path));
}

/** Makes a folder's entries (a rename into it) durable. */
async function syncFolder(folder: string): Promise<void> {
  const dir = await Deno.open(folder, { read: true });
  try {
    await dir.sync();
  } finally {
    dir.close();
  }
}

/**
 * Logs that writes of a kept file began to fail, or succeed again.
 *
 * @param what such as "map file"
 * @param path the file
 * @param failure the first error, or undefined once a write succeeded
 */
function logChange(what: string, path: string, failure: Error | undefined): void {
  const logger = getLogger(["pvw-launcher", "files"]);
  if (failure) {
    logger.error("cannot write the {what} {path}: {error}; trying again until it can", {
      what,
      path,
      error: String(failure),
    });
  } else {
    logger.warn("the {what} {path} is written again", { what, path });
  }
}

/** How a {@linkcode CoalescedWriter} tries again after a failed write. */
export interface RetryOptions {
  /** Delay before the first retry, in ms; it doubles after each failure. @default 100 */
  firstMs?: number;
  /** Longest delay between retries, in ms. @default 2000 */
  maxMs?: number;
  /** Called when writes start failing (with the error) and when one succeeds again. */
  onChange?: (failure: Error | undefined) => void;
  /**
   * What the file is, such as "map file": when set, the log says when writes start failing
   * and when one succeeds again ({@linkcode logChange}).
   */
  what?: string;
}

/** Whether a file is as its writer wants it. */
export interface WriteHealth {
  /** Set while the last write failed and retries go on: since when, in ms since the epoch. */
  failingSince?: number;
  /** Writes that failed since the writer was made. */
  failures: number;
}

/**
 * Rewrites one file from a render function, coalescing requests: at most one write is in
 * flight and one queued, and every request settles after a write that started after it.
 * With `retry`, a failed write (a full disk) is tried again, with backoff, until the file
 * holds the current content.
 */
export class CoalescedWriter {
  #path: string;
  #render: () => string;
  #write: FileWriter;
  #next: PromiseWithResolvers<void> | undefined;
  #nextDurable = false;
  #flushing = false;
  #retry: Required<Omit<RetryOptions, "onChange" | "what">> & Pick<RetryOptions, "onChange">;
  #retrying: boolean;
  #delay = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #recovered: PromiseWithResolvers<void> | undefined;
  #failingSince: number | undefined;
  #failures = 0;
  #closed = false;

  /**
   * Makes a writer for one file.
   *
   * @param path the file
   * @param render the file's whole content, read when a write starts
   * @param write how the file is replaced
   * @param retry whether and how to try again after a failed write @default no retries
   */
  constructor(path: string, render: () => string, write: FileWriter, retry?: RetryOptions) {
    this.#path = path;
    this.#render = render;
    this.#write = write;
    this.#retrying = retry !== undefined;
    const what = retry?.what;
    const onChange = what === undefined ? retry?.onChange : (failure: Error | undefined) => {
      logChange(what, path, failure);
      retry?.onChange?.(failure);
    };
    this.#retry = { firstMs: retry?.firstMs ?? 100, maxMs: retry?.maxMs ?? 2000, onChange };
  }

  /** Failures so far, and whether the file is behind now. */
  get health(): WriteHealth {
    return { failingSince: this.#failingSince, failures: this.#failures };
  }

  /**
   * Asks for the file to be written with the current content.
   *
   * @param durable whether the write must reach the disk before this settles (see
   *   {@linkcode FileWriter}); a write is durable when any request it serves asks so
   * @returns resolves once a write that started after this call is in place
   * @throws {Error} from the write, when the file cannot be written; a later call writes again
   */
  request(durable = true): Promise<void> {
    this.#next ??= Promise.withResolvers<void>();
    this.#nextDurable ||= durable;
    const { promise } = this.#next;
    if (!this.#flushing) this.#flush();
    return promise;
  }

  /**
   * Waits until the file holds the content as it is now, however many retries it takes.
   *
   * @returns resolves once a write that started after this call is in place; never rejects
   */
  async settled(): Promise<void> {
    try {
      await this.request();
    } catch {
      // Every write after the failed one started after this call: the next success will do.
      this.#recovered ??= Promise.withResolvers<void>();
      await this.#recovered.promise;
    }
  }

  /** Stops retrying (at shutdown). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    // Let the calls made in the same tick join the first write.
    await Promise.resolve();
    while (this.#next !== undefined) {
      const batch = this.#next;
      const durable = this.#nextDurable;
      this.#next = undefined;
      this.#nextDurable = false;
      try {
        await this.#write(this.#path, this.#render(), durable);
        this.#succeeded();
        batch.resolve();
      } catch (err) {
        this.#failed(err as Error);
        batch.reject(err);
      }
    }
    this.#flushing = false;
  }

  #succeeded(): void {
    this.#delay = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#recovered?.resolve();
    this.#recovered = undefined;
    if (this.#failingSince === undefined) return;
    this.#failingSince = undefined;
    this.#retry.onChange?.(undefined);
  }

  #failed(err: Error): void {
    this.#failures++;
    if (this.#failingSince === undefined) {
      this.#failingSince = Date.now();
      this.#retry.onChange?.(err);
    }
    if (!this.#retrying || this.#closed || this.#timer !== undefined) return;
    this.#delay = Math.min(this.#retry.maxMs, this.#delay ? this.#delay * 2 : this.#retry.firstMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // The retry's outcome is seen through health and onChange; a failure schedules another.
      this.request().catch(() => {});
    }, this.#delay);
  }
}
