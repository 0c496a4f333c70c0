/**
 * Raising the process's soft descriptor limit to its hard limit at start, as Node.js and
 * nginx do: the soft limit is often 1024, far too few for a launcher that holds two sockets
 * per proxied tab, and nothing is gained by keeping it below what the system allows.
 *
 * @module
 */

import type { DescriptorLimit } from "./libc.ts";

/** Reads and sets the descriptor limit ({@linkcode Libc} does). */
export interface DescriptorLimitControl {
  /** The limit now. */
  descriptorLimit(): DescriptorLimit;
  /** Sets the soft limit; false when refused. */
  setSoftDescriptorLimit(soft: number): boolean;
}

/**
 * Raises the soft descriptor limit to the hard one.
 *
 * @param control reads and sets the limit
 * @returns the limit before, and the soft limit after
 */
export function raiseDescriptorLimit(
  control: DescriptorLimitControl,
): { before: DescriptorLimit; soft: number } {
  const before = control.descriptorLimit();
  if (before.soft >= before.hard) return { before, soft: before.soft };
  control.setSoftDescriptorLimit(before.hard);
  return { before, soft: control.descriptorLimit().soft };
}
