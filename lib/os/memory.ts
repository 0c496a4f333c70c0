/**
 * How much memory the launcher's process holds, for its metrics.
 *
 * @module
 */

/**
 * The process's resident set size.
 *
 * @returns bytes of memory the process holds
 */
export function residentMemory(): number {
  return Deno.memoryUsage().rss;
}
