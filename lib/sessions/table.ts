/**
 * The session table itself: the sessions by id, in the order they were requested, found in
 * any case, and what the state file keeps of them. An object of its own so that the state
 * file, which saves the table, can be made before the {@linkcode SessionManager} that
 * changes it.
 *
 * @module
 */

import type { SessionRecord } from "./record.ts";
import { toSaved } from "./state_file.ts";

/** The sessions holding a port (starting, ready or stopping), by id. */
export class SessionTable {
  readonly #records = new Map<string, SessionRecord>();
  /** Lower-cased id → id, for the ids with capitals (adopted from older launchers). */
  readonly #folded = new Map<string, string>();

  /** Number of sessions. */
  get size(): number {
    return this.#records.size;
  }

  /** Every session, in the order they were requested. */
  records(): SessionRecord[] {
    return [...this.#records.values()];
  }

  /**
   * Whether a session has exactly this id.
   *
   * @param id a session id
   * @returns true when the table holds it
   */
  has(id: string): boolean {
    return this.#records.has(id);
  }

  /**
   * Finds a session by id, in any case: clients may lower-case the id (trame's client
   * lower-cases the whole session URL), and ids of older launchers had capitals.
   *
   * @param id a session id, in any case
   * @returns the session, or undefined
   */
  find(id: string): SessionRecord | undefined {
    const exact = this.#records.get(id);
    if (exact) return exact;
    const folded = id.toLowerCase();
    return this.#records.get(folded) ?? this.#records.get(this.#folded.get(folded) ?? "");
  }

  /**
   * Adds a session.
   *
   * @param rec the session
   */
  add(rec: SessionRecord): void {
    this.#records.set(rec.id, rec);
    const folded = rec.id.toLowerCase();
    if (folded !== rec.id) this.#folded.set(folded, rec.id);
  }

  /**
   * Takes a session out.
   *
   * @param rec the session
   */
  remove(rec: SessionRecord): void {
    this.#records.delete(rec.id);
    const folded = rec.id.toLowerCase();
    if (this.#folded.get(folded) === rec.id) this.#folded.delete(folded);
  }

  /**
   * The state-file entries of the sessions whose process was spawned, as JSON texts; a ready
   * session's is made once (it does not change after).
   *
   * @returns the entries, in the table's order
   */
  *savedJson(): Generator<string> {
    for (const r of this.#records.values()) {
      if (r.savedJson !== undefined) {
        yield r.savedJson;
        continue;
      }
      const saved = toSaved(r);
      if (saved === undefined) continue;
      const json = JSON.stringify(saved);
      if (r.state === "ready") r.savedJson = json;
      yield json;
    }
  }
}
