/**
 * Which host of `resources` a new session goes to. `pack` takes the ports in the ranges'
 * order (least recently released first), filling the first host before the next; `spread`
 * takes a port on the host with the fewest sessions, so that sessions share the machines'
 * CPUs and memory evenly. Spread is the default when the resources name several hosts; on
 * one host both are the same.
 *
 * @example
 * ```ts
 * import { createPool } from "./placement.ts";
 *
 * const pool = createPool([
 *   { host: "a", first: 9001, last: 9002 },
 *   { host: "b", first: 9001, last: 9002 },
 * ], "spread");
 * pool.acquire(); // a:9001
 * pool.acquire(); // b:9001
 * ```
 *
 * @module
 */

import type { ResourceRange } from "../config/mod.ts";
import type { PortProbe } from "../os/mod.ts";
import { NoCapacityError } from "./errors.ts";
import { PortPool, type Slot } from "./port_pool.ts";

/** Hands out distinct (host, port) slots; {@linkcode PortPool} is one. */
export interface SlotPool {
  /** How many distinct slots there are. */
  readonly size: number;
  /** How many slots are not handed out. */
  readonly available: number;
  /** How many slots are handed out. */
  readonly inUse: number;
  /**
   * Takes a free slot.
   *
   * @throws {NoCapacityError} when none is free
   */
  acquire(): Slot;
  /** Gives a slot back. */
  release(slot: Slot): void;
  /** Takes one given slot (an adopted session's); false when taken or unknown. */
  reserve(host: string, port: number): boolean;
}

/** A pool per host; each slot goes to the host with the fewest slots in use. */
export class SpreadPool implements SlotPool {
  readonly #hosts: { host: string; pool: PortPool }[] = [];

  /**
   * Makes the pools, one per host, each with the host's ranges in their order.
   *
   * @param ranges the resource ranges
   * @param probe tells whether a free port is really free
   */
  constructor(ranges: readonly ResourceRange[], probe?: PortProbe) {
    const byHost = new Map<string, ResourceRange[]>();
    for (const range of ranges) {
      byHost.set(range.host, [...byHost.get(range.host) ?? [], range]);
    }
    for (const [host, list] of byHost) {
      this.#hosts.push({ host, pool: new PortPool(list, probe) });
    }
  }

  /** {@inheritDoc SlotPool.size} */
  get size(): number {
    return this.#hosts.reduce((n, h) => n + h.pool.size, 0);
  }

  /** {@inheritDoc SlotPool.available} */
  get available(): number {
    return this.#hosts.reduce((n, h) => n + h.pool.available, 0);
  }

  /** {@inheritDoc SlotPool.inUse} */
  get inUse(): number {
    return this.#hosts.reduce((n, h) => n + h.pool.inUse, 0);
  }

  /**
   * Takes a free slot of the host with the fewest slots in use (the first such host in the
   * resources' order); a host whose free ports are all taken by other programs is passed over.
   *
   * @returns the slot
   * @throws {NoCapacityError} when no host has a free slot
   */
  acquire(): Slot {
    const order = this.#hosts.filter((h) => h.pool.available > 0)
      .sort((a, b) => a.pool.inUse - b.pool.inUse);
    let last: NoCapacityError | undefined;
    for (const { pool } of order) {
      try {
        return pool.acquire();
      } catch (err) {
        if (!(err instanceof NoCapacityError)) throw err;
        last = err;
      }
    }
    throw last ??
      new NoCapacityError(`no free port: all ${this.size} ports are in use by sessions`);
  }

  /** {@inheritDoc SlotPool.release} */
  release(slot: Slot): void {
    const host = this.#hosts.find((h) => h.host === slot.host);
    if (!host) throw new Error(`port ${slot.host}:${slot.port} is in no range`);
    host.pool.release(slot);
  }

  /** {@inheritDoc SlotPool.reserve} */
  reserve(host: string, port: number): boolean {
    return this.#hosts.find((h) => h.host === host)?.pool.reserve(host, port) ?? false;
  }
}

/**
 * The pool of the resources, placing sessions as configured.
 *
 * @param ranges the resource ranges
 * @param placement `spread` or `pack`; undefined: spread when the ranges name several hosts
 * @param probe tells whether a free port is really free
 * @returns the pool
 */
export function createPool(
  ranges: readonly ResourceRange[],
  placement?: "spread" | "pack",
  probe?: PortProbe,
): SlotPool {
  const hosts = new Set(ranges.map((r) => r.host)).size;
  return (placement ?? "spread") === "spread" && hosts > 1
    ? new SpreadPool(ranges, probe)
    : new PortPool(ranges, probe);
}
