/**
 * Hands out distinct (host, port) slots for sessions from the configured resource ranges.
 *
 * Free slots wait in a queue: the least recently released is handed out first, so a port
 * that a session just left (and that may still be in `TIME_WAIT`, or be reconnected to by a
 * stale client) rests as long as possible. A probe can report that some other program listens
 * on a free slot; that slot is skipped and goes to the back of the queue. Acquire and release
 * are O(1) whatever the number of ports.
 *
 * @example
 * ```ts
 * import { localPortProbe } from "../os/mod.ts";
 * import { PortPool } from "./port_pool.ts";
 *
 * const pool = new PortPool([{ host: "127.0.0.1", first: 9001, last: 9100 }], localPortProbe());
 * const slot = pool.acquire(); // { host: "127.0.0.1", port: 9001 }
 * pool.release(slot);
 * ```
 *
 * @module
 */

import type { ResourceRange } from "../config/mod.ts";
import type { PortProbe } from "../os/mod.ts";
import { NoCapacityError } from "./errors.ts";

/** A port on a host, handed to one session. */
export interface Slot {
  /** Host name or address, as written in the resource range. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
}

/** A slot and its links in the queue of free slots. */
interface Entry {
  readonly slot: Slot;
  inUse: boolean;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** Distinct (host, port) slots from resource ranges, handed out least recently released first. */
export class PortPool {
  #entries = new Map<string, Entry>();
  #probe: PortProbe;
  // Doubly linked queue of free entries, so reserve() can take one from the middle in O(1).
  #head: Entry | undefined;
  #tail: Entry | undefined;
  #available = 0;

  /**
   * Makes a pool of every slot of the ranges, all free.
   *
   * @param ranges where slots come from; the first acquires follow their order. A slot listed
   *   twice counts once.
   * @param probe tells whether a free slot is really free; the default trusts the pool
   * @throws {RangeError} when a range is not `1 <= first <= last <= 65535` in whole numbers
   */
  constructor(ranges: readonly ResourceRange[], probe: PortProbe = () => true) {
    this.#probe = probe;
    for (const { host, first, last } of ranges) {
      if (!isPort(first) || !isPort(last) || first > last) {
        throw new RangeError(`bad port range ${first}-${last} on host "${host}"`);
      }
      for (let port = first; port <= last; port++) {
        const key = slotKey(host, port);
        if (this.#entries.has(key)) continue;
        const slot: Slot = Object.freeze({ host, port });
        const entry: Entry = { slot, inUse: false, prev: undefined, next: undefined };
        this.#entries.set(key, entry);
        this.#pushFree(entry);
      }
    }
  }

  /** How many distinct slots the ranges hold. */
  get size(): number {
    return this.#entries.size;
  }

  /** How many slots are not handed out (some may still be busy with other programs). */
  get available(): number {
    return this.#available;
  }

  /** How many slots are handed out. */
  get inUse(): number {
    return this.#entries.size - this.#available;
  }

  /**
   * Takes the free slot released longest ago that the probe reports free.
   *
   * @returns a slot that is not handed out again until it is released
   * @throws {NoCapacityError} when every slot is handed out, or every free one is busy
   */
  acquire(): Slot {
    const candidates = this.#available;
    for (let tried = 0; tried < candidates; tried++) {
      const entry = this.#head!;
      this.#unlink(entry);
      if (this.#probe(entry.slot.host, entry.slot.port)) return entry.slot;
      this.#pushFree(entry);
    }
    throw new NoCapacityError(
      candidates === 0
        ? `no free port: all ${this.size} ports are in use by sessions`
        : `no free port: the ${candidates} ports not used by sessions are taken by other programs`,
    );
  }

  /**
   * Gives a slot back; it is handed out again after every slot released before it.
   *
   * @param slot a slot from {@linkcode PortPool.acquire} or {@linkcode PortPool.reserve}
   * @throws {Error} when the slot is not handed out: releasing twice is a bug
   */
  release(slot: Slot): void {
    const entry = this.#entries.get(slotKey(slot.host, slot.port));
    if (entry === undefined || !entry.inUse) {
      throw new Error(`port ${slot.host}:${slot.port} is not in use and cannot be released`);
    }
    this.#pushFree(entry);
  }

  /**
   * Takes one given slot, without probing, such as that of a session adopted after a restart.
   *
   * @param host host of the slot, as written in the resource range
   * @param port port of the slot
   * @returns true when the slot was taken; false when it is in use or in no range
   */
  reserve(host: string, port: number): boolean {
    const entry = this.#entries.get(slotKey(host, port));
    if (entry === undefined || entry.inUse) return false;
    this.#unlink(entry);
    return true;
  }

  #pushFree(entry: Entry): void {
    entry.inUse = false;
    entry.prev = this.#tail;
    entry.next = undefined;
    if (this.#tail) this.#tail.next = entry;
    else this.#head = entry;
    this.#tail = entry;
    this.#available++;
  }

  #unlink(entry: Entry): void {
    entry.inUse = true;
    if (entry.prev) entry.prev.next = entry.next;
    else this.#head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.#tail = entry.prev;
    entry.prev = entry.next = undefined;
    this.#available--;
  }
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

function slotKey(host: string, port: number): string {
  return `${port} ${host}`;
}
