/**
 * The state file: the session table written to disk on every change (atomically and
 * durably, mode 0600: it holds secrets), so that a launcher started after a crash or an
 * upgrade can adopt the sessions that still run. A session is recorded from the moment its
 * process is spawned, before its ready line, so that no process is ever left unrecorded
 * for long.
 *
 * A damaged file is never overwritten: it is renamed aside and kept, and every entry that
 * can still be read from it is used.
 *
 * @module
 */

import { findNodeAtLocation, type ParseError, parseTree } from "jsonc-parser";
import {
  CoalescedWriter,
  type FileWriter,
  type KeptFiles,
  keptFiles,
  type RetryOptions,
  writeFileAtomic,
  writeFileDurably,
  type WriteHealth,
} from "../os/mod.ts";
import type { SessionRecord } from "./record.ts";

/** What is kept of every session whose process was spawned. */
export interface SavedProcess {
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
}

/** A session whose process printed its ready line. */
export interface SavedReady extends SavedProcess {
  /** Ready (the default, as in files that predate starting entries). */
  state?: "ready";
  /** Milliseconds from request to ready. */
  readyMs: number;
  /** The answer given to its client. */
  answer: Record<string, unknown>;
}

/** A session whose process had not printed its ready line: no client knows it yet. */
export interface SavedStarting extends SavedProcess {
  /** Still starting. */
  state: "starting";
}

/**
 * A warm process waiting to be handed out: no client knows it yet, and a next launcher keeps
 * it waiting (its secret is what it was started with).
 */
export interface SavedWaiting extends SavedProcess {
  /** Waiting to be handed out. */
  state: "waiting";
  /** Milliseconds from its start to its ready line. */
  readyMs: number;
  /** The secret its process was started with. */
  secret: string;
}

/** A session whose process this machine runs. */
export type SavedProcessSession = SavedReady | SavedStarting | SavedWaiting;

/**
 * A session that runs as a batch job: known by its job, not by a process of this machine.
 * Saved from its submission on, so that a launcher started after a crash takes over its job,
 * queued or running.
 */
export interface SavedJobSession {
  /** Session id. */
  id: string;
  /** Application name. */
  application: string;
  /** The host the proxy reaches it at, once its node is known; "" before. */
  host: string;
  /** Its port, from the cluster's range. */
  port: number;
  /** Its job: id and name (as the batch system knows it), its node once running. */
  job: { id: string; name: string; node?: string; partition?: string };
  /** Its log file. */
  logFile: string;
  /** When it was requested, ms since the epoch. */
  startedAt: number;
  /** Starting (queued or running, no ready line yet) or ready. */
  state: "starting" | "ready";
  /** Milliseconds from request to ready, once ready. */
  readyMs?: number;
  /** The answer given to its client, once ready. */
  answer?: Record<string, unknown>;
  /** Whether its id was given out before it was ready. */
  announced?: boolean;
  /** What its client POSTed, while it starts: its answer is made once its node is known. */
  body?: Record<string, unknown>;
  /** The secret its application was given, while it starts. */
  secret?: string;
}

/** What the state file keeps of one session. */
export type SavedSession = SavedProcessSession | SavedJobSession;

/**
 * Whether a saved session runs as a batch job.
 *
 * @param s a saved session
 * @returns true for a job's entry
 */
export function isJobEntry(s: SavedSession): s is SavedJobSession {
  return "job" in s;
}

const VERSION = 1;

/**
 * What the state file keeps of a session: every session whose process is known, as ready
 * once its ready line was seen (even while its map line and state are being written: its
 * client gets its answer only after, and must find it adopted after a crash).
 *
 * @param r the session
 * @returns its saved form, or undefined when it has no process yet
 */
export function toSaved(r: SessionRecord): SavedSession | undefined {
  if (r.job) return toSavedJob(r, r.job);
  if (r.pid === undefined || r.identity === undefined) return undefined;
  const process: SavedProcess = {
    id: r.id,
    application: r.application,
    host: r.host,
    port: r.port,
    pid: r.pid,
    identity: r.identity,
    logFile: r.logFile,
    startedAt: r.startedAt,
  };
  if (r.readyMs === undefined) return { ...process, state: "starting" };
  if (r.warm) {
    return { ...process, state: "waiting", readyMs: r.readyMs, secret: String(r.answer.secret) };
  }
  return { ...process, readyMs: r.readyMs, answer: r.answer };
}

/** A batch session's entry: saved from its submission on. */
function toSavedJob(r: SessionRecord, job: NonNullable<SessionRecord["job"]>): SavedJobSession {
  const { id, application, host, port, logFile, startedAt } = r;
  const ready = r.readyMs !== undefined;
  return {
    id,
    application,
    host,
    port,
    job: {
      id: job.id,
      name: job.name,
      ...(job.node === undefined ? {} : { node: job.node }),
      ...(job.partition === undefined ? {} : { partition: job.partition }),
    },
    logFile,
    startedAt,
    state: ready ? "ready" : "starting",
    ...(ready
      ? { readyMs: r.readyMs, answer: r.answer }
      : { body: r.body ?? {}, secret: String(r.answer.secret ?? "") }),
    ...(r.announced ? { announced: true } : {}),
  };
}

/** The fields every saved session has. */
function hasBase(v: Record<string, unknown>): boolean {
  return typeof v.id === "string" && typeof v.application === "string" &&
    typeof v.host === "string" && Number.isInteger(v.port) && typeof v.logFile === "string" &&
    typeof v.startedAt === "number";
}

/** A ready session's fields: how long it took, and its answer (an object). */
function isReadyEntry(v: Record<string, unknown>): boolean {
  return typeof v.readyMs === "number" && v.answer !== null && typeof v.answer === "object" &&
    !Array.isArray(v.answer);
}

function isSavedJob(v: Record<string, unknown>): boolean {
  const job = v.job as Record<string, unknown> | null;
  const base = hasBase(v) && job !== null && typeof job === "object" &&
    typeof job.id === "string" && typeof job.name === "string" &&
    (job.node === undefined || typeof job.node === "string");
  if (!base || v.state === "starting") return base;
  return v.state === "ready" && isReadyEntry(v);
}

function isSaved(value: unknown): value is SavedSession {
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  if ("job" in v) return isSavedJob(v);
  const process = hasBase(v) && Number.isInteger(v.pid) && typeof v.identity === "string";
  if (!process) return false;
  if (v.state === "starting") return true;
  if (v.state === "waiting") return typeof v.readyMs === "number" && typeof v.secret === "string";
  return (v.state === undefined || v.state === "ready") && isReadyEntry(v);
}

/** How a damaged state file was dealt with. */
export interface StateDamage {
  /** What is wrong with it. */
  reason: string;
  /** Where it was moved, kept as it was. */
  setAside: string;
  /** Entries it held that could not be read. */
  unreadable: number;
}

/** What a state file held. */
export interface LoadedState {
  /** The sessions it names, each a well-formed entry (not yet checked against the system). */
  sessions: SavedSession[];
  /** Entries of a sound file that were not well-formed, left out. */
  skipped: number;
  /** Set when the file was damaged and set aside. */
  damage?: StateDamage;
}

/** Options of {@linkcode readState}. */
export interface ReadStateOptions {
  /** The time, for the name of a damaged file set aside. @default () => new Date() */
  now?: () => Date;
  /** Reads the file and sets it aside. @default the file system */
  files?: KeptFiles;
}

/**
 * Reads a state file. A file that is not JSON, is cut short, or is not a state file of
 * this version is renamed to `<name>.damaged-<time>` in its folder and kept; the entries
 * that can still be read from it are returned.
 *
 * @param path the file
 * @param options the clock, and the files
 * @returns the sessions it names (none when it does not exist), and what was wrong
 * @throws {Error} when the file cannot be read, or a damaged file cannot be set aside
 */
export async function readState(
  path: string,
  options: ReadStateOptions = {},
): Promise<LoadedState> {
  const files = options.files ?? keptFiles();
  const bytes = await files.read(path);
  if (bytes === undefined) return { sessions: [], skipped: 0 };
  const text = new TextDecoder().decode(bytes);
  const sound = parseSound(text);
  if (sound) return sound;
  const { sessions, unreadable, reason } = salvage(text);
  const stamp = (options.now?.() ?? new Date()).toISOString().replace(/[:.]/g, "-");
  const setAside = `${path}.damaged-${stamp}`;
  await files.rename(path, setAside);
  return { sessions, skipped: 0, damage: { reason, setAside, unreadable } };
}

/** The entries of a file that is whole and of this version, or undefined. */
function parseSound(text: string): LoadedState | undefined {
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (data?.version !== VERSION || !Array.isArray(data.sessions)) return undefined;
  const sessions = data.sessions.filter(isSaved);
  return { sessions, skipped: data.sessions.length - sessions.length };
}

/**
 * Reads what it can of a damaged file: each entry of its `sessions` array that is whole
 * (no syntax error within it) and well-formed.
 */
function salvage(text: string): { sessions: SavedSession[]; unreadable: number; reason: string } {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  const reason = errors.length > 0
    ? `it is not whole JSON (${errors.length} syntax errors, the first at byte ${errors[0].offset})`
    : `it is not a pvw-launcher state file of version ${VERSION}`;
  const list = root && findNodeAtLocation(root, ["sessions"]);
  const sessions: SavedSession[] = [];
  let unreadable = 0;
  for (const node of list?.type === "array" ? list.children ?? [] : []) {
    const end = node.offset + node.length;
    const whole = !errors.some((e) => e.offset >= node.offset && e.offset <= end);
    const value = whole ? parsedOrUndefined(text.slice(node.offset, end)) : undefined;
    if (isSaved(value)) sessions.push(value);
    else unreadable++;
  }
  return { sessions, unreadable, reason };
}

function parsedOrUndefined(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

/** Keeps the state file true, coalescing bursts of changes into few atomic, durable writes. */
export class StateFile {
  #writer: CoalescedWriter;

  /**
   * Keeps the state at `path`.
   *
   * @param path the state file; its folder must exist
   * @param snapshot the sessions to save, each as its JSON text (which the table can keep
   *   from one write to the next), read when a write starts
   * @param write how the file is replaced @default writeFileDurably with mode 0o600
   * @param retry try a failed write again until the file is true, logging when writes start
   *   failing and when one succeeds again @default no retries
   */
  constructor(
    path: string,
    snapshot: () => Iterable<string>,
    write?: FileWriter,
    retry?: RetryOptions,
  ) {
    this.#writer = new CoalescedWriter(
      path,
      () => `{"version":${VERSION},"sessions":[${[...snapshot()].join(",")}]}\n`,
      write ??
        ((p, text, durable) =>
          durable === false ? writeFileAtomic(p, text, 0o600) : writeFileDurably(p, text, 0o600)),
      retry && { ...retry, what: "state file" },
    );
  }

  /** Whether the file is behind the sessions now (writes failing), and failures so far. */
  get health(): WriteHealth {
    return this.#writer.health;
  }

  /** Stops retrying failed writes (at shutdown). */
  close(): void {
    this.#writer.close();
  }

  /**
   * Writes the current sessions.
   *
   * @param durable whether the file must be flushed to the disk before this settles (the
   *   default, with the default writer), or only be in place, which is enough to survive a
   *   crash of the launcher but not of the machine
   * @returns resolves once a file holding them is in place
   */
  save(durable = true): Promise<void> {
    return this.#writer.request(durable);
  }
}
