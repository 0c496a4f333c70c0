/**
 * The state file: the session table written to disk on every change (atomically, mode
 * 0600: it holds secrets), so that a launcher started after a crash or an upgrade can adopt
 * the sessions that still run.
 *
 * @module
 */

import { CoalescedWriter, type FileWriter, writeFileAtomic } from "./atomic_file.ts";
import type { SessionRecord } from "./session_record.ts";

/** What is kept of one ready session. */
export interface SavedSession {
  /** Session id. */
  id: string;
  /** Application name. */
  application: string;
  /** Host of its process. */
  host: string;
  /** Port of its process. */
  port: number;
  /** Its pid and process group id. */
  pid: number;
  /** What tells its process from a later one with the same pid. */
  identity: string;
  /** Its log file. */
  logFile: string;
  /** When it was requested, ms since the epoch. */
  startedAt: number;
  /** Milliseconds from request to ready. */
  readyMs: number;
  /** The answer given to its client. */
  answer: Record<string, unknown>;
}

const VERSION = 1;

/**
 * What the state file keeps of a session: only ready sessions whose process is known.
 *
 * @param r the session
 * @returns its saved form, or undefined when it is not to be kept
 */
export function toSaved(r: SessionRecord): SavedSession | undefined {
  if (r.state !== "ready" || r.pid === undefined || r.identity === undefined) return undefined;
  return {
    id: r.id,
    application: r.application,
    host: r.host,
    port: r.port,
    pid: r.pid,
    identity: r.identity,
    logFile: r.logFile,
    startedAt: r.startedAt,
    readyMs: r.readyMs ?? 0,
    answer: r.answer,
  };
}

function isSaved(value: unknown): value is SavedSession {
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === "string" && typeof v.application === "string" &&
    typeof v.host === "string" && Number.isInteger(v.port) && Number.isInteger(v.pid) &&
    typeof v.identity === "string" && typeof v.logFile === "string" &&
    typeof v.startedAt === "number" && typeof v.readyMs === "number" &&
    v.answer !== null && typeof v.answer === "object";
}

/**
 * Reads a state file.
 *
 * @param path the file
 * @returns the saved sessions; none when the file does not exist
 * @throws {Error} when the file exists but is not a state file
 */
export async function loadState(path: string): Promise<SavedSession[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const data = JSON.parse(text);
  if (data?.version !== VERSION || !Array.isArray(data.sessions)) {
    throw new Error(`${path} is not a pvw-launcher state file (version ${VERSION})`);
  }
  return data.sessions.filter(isSaved);
}

/** Keeps the state file true, coalescing bursts of changes into few atomic writes. */
export class StateFile {
  #writer: CoalescedWriter;

  /**
   * Keeps the state at `path`.
   *
   * @param path the state file; its folder must exist
   * @param snapshot the sessions to save, each as its JSON text (which the table can keep
   *   from one write to the next), read when a write starts
   * @param write how the file is replaced @default writeFileAtomic with mode 0o600
   */
  constructor(path: string, snapshot: () => Iterable<string>, write?: FileWriter) {
    this.#writer = new CoalescedWriter(
      path,
      () => `{"version":${VERSION},"sessions":[${[...snapshot()].join(",")}]}\n`,
      write ?? ((p, text) => writeFileAtomic(p, text, 0o600)),
    );
  }

  /**
   * Writes the current sessions.
   *
   * @returns resolves once a file holding them is in place
   */
  save(): Promise<void> {
    return this.#writer.request();
  }
}
