/**
 * Slurm's compact node lists (`n[1-3,7]`, `gpu[01-02],login1`), expanded to node names, as
 * `scontrol show hostnames` would, without a call to the controller.
 *
 * @module
 */

/** Splits at the commas that are not inside brackets. */
function topLevelItems(list: string): string[] {
  const items: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < list.length; i++) {
    if (list[i] === "[") depth++;
    else if (list[i] === "]") depth--;
    else if (list[i] === "," && depth === 0) {
      items.push(list.slice(start, i));
      start = i + 1;
    }
  }
  items.push(list.slice(start));
  return items.filter((item) => item !== "");
}

/** The numbers of one bracket group (`01-03,7`), zero-padded as written. */
function rangeValues(group: string): string[] {
  const values: string[] = [];
  for (const part of group.split(",")) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!match) return [part];
    const [, first, last = first] = match;
    for (let n = Number(first); n <= Number(last) && values.length < 100_000; n++) {
      values.push(String(n).padStart(first.length, "0"));
    }
  }
  return values;
}

/** Expands one item (`rack[1-2]-n[1-2]`): every bracket group, left to right. */
function expandItem(item: string): string[] {
  const open = item.indexOf("[");
  const close = item.indexOf("]", open);
  if (open < 0 || close < 0) return [item];
  const head = item.slice(0, open);
  const tails = expandItem(item.slice(close + 1));
  return rangeValues(item.slice(open + 1, close)).flatMap((v) => tails.map((t) => head + v + t));
}

/**
 * Expands a Slurm node list.
 *
 * @example
 * ```ts
 * import { expandHostlist } from "./hostlist.ts";
 *
 * expandHostlist("n[2-3],gpu07"); // => ["n2", "n3", "gpu07"]
 * ```
 *
 * @param list the list as squeue prints it; empty for none
 * @returns the node names, in order
 */
export function expandHostlist(list: string): string[] {
  return topLevelItems(list.trim()).flatMap(expandItem);
}
