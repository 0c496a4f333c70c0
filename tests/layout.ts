/**
 * The layout rules of `lib/`, as functions over source texts, so that the layout test can
 * check the repository and show on small examples that each rule does catch what it forbids.
 *
 * - Every module of `lib/` is in a folder, `lib/<folder>/<module>.ts`, and every folder has a
 *   `mod.ts`: its only public door.
 * - A file outside `lib/<folder>/` imports the folder only through `lib/<folder>/mod.ts`. The
 *   one exception: the unit tests of a folder, in `tests/<folder>/`, may import its modules
 *   directly, to test what the folder does not export.
 * - `lib/` imports nothing from the rest of the repository but `assets/`.
 * - The folders' imports of one another form no cycle.
 *
 * @module
 */

import { dirname, join, normalize } from "node:path";

/** A source file: its path from the repository's root, and its text. */
export type Sources = ReadonlyMap<string, string>;

/** One import that breaks a rule. */
export interface Violation {
  /** The importing file. */
  file: string;
  /** The imported file, from the repository's root. */
  target: string;
  /** Which rule, in words. */
  rule: string;
}

const STATIC = /^[ \t]*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/gm;
const BARE = /^[ \t]*import\s*["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
// Code that a test runs in a child process names its modules by URL.
const BY_URL = /\bnew URL\(\s*["']([^"']+\.ts)["']\s*,\s*import\.meta\.url\s*\)/g;

/**
 * The repository files a source file imports (relative specifiers only: `npm:`, `node:` and
 * mapped names are no part of the layout).
 *
 * @param file the file's path from the root
 * @param text its text
 * @returns the imported paths, from the root
 */
export function importsOf(file: string, text: string): string[] {
  const found: string[] = [];
  for (const re of [STATIC, BARE, DYNAMIC, BY_URL]) {
    for (const m of text.matchAll(re)) {
      if (m[1].startsWith(".")) found.push(normalize(join(dirname(file), m[1])));
    }
  }
  return found;
}

/** The folder of `lib/<folder>/...`, or undefined. */
function libFolder(path: string): string | undefined {
  const parts = path.split("/");
  return parts[0] === "lib" && parts.length === 3 ? parts[1] : undefined;
}

/**
 * The imports that break the layout's rules.
 *
 * @param sources every source file of the repository
 * @returns one entry per import that breaks a rule, and one per misplaced module
 */
export function violations(sources: Sources): Violation[] {
  const out: Violation[] = [];
  const folders = new Set([...sources.keys()].map(libFolder).filter((f) => f !== undefined));
  for (const file of sources.keys()) {
    if (file.startsWith("lib/") && libFolder(file) === undefined) {
      out.push({ file, target: file, rule: "every lib module is in a folder lib/<folder>/" });
    }
  }
  for (const folder of folders) {
    if (!sources.has(`lib/${folder}/mod.ts`)) {
      out.push({ file: `lib/${folder}`, target: "", rule: "every lib folder has a mod.ts" });
    }
  }
  for (const [file, text] of sources) {
    const home = file.split("/")[0] === "lib" || file.split("/")[0] === "tests"
      ? file.split("/")[1]
      : undefined;
    for (const target of importsOf(file, text)) {
      if (file.startsWith("lib/") && !target.startsWith("lib/") && !target.startsWith("assets/")) {
        out.push({ file, target, rule: "lib imports nothing outside lib but assets" });
        continue;
      }
      const folder = libFolder(target);
      if (folder === undefined || folder === home || target.endsWith("/mod.ts")) continue;
      out.push({ file, target, rule: `import lib/${folder}/ through lib/${folder}/mod.ts` });
    }
  }
  return out;
}

/**
 * The edges between folders: folder → the folders its modules import.
 *
 * @param sources every source file of the repository
 * @returns each folder's imported folders
 */
export function folderGraph(sources: Sources): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [file, text] of sources) {
    const from = libFolder(file);
    if (from === undefined) continue;
    const edges = graph.get(from) ?? new Set();
    graph.set(from, edges);
    for (const target of importsOf(file, text)) {
      const to = libFolder(target);
      if (to !== undefined && to !== from) edges.add(to);
    }
  }
  return graph;
}

/**
 * A cycle among the folders, if there is one.
 *
 * @param graph what {@linkcode folderGraph} returns
 * @returns the folders of one cycle, the first repeated at the end; undefined when there is none
 */
export function folderCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (folder: string): string[] | undefined => {
    const at = path.indexOf(folder);
    if (at >= 0) return [...path.slice(at), folder];
    if (done.has(folder)) return undefined;
    path.push(folder);
    for (const next of [...graph.get(folder) ?? []].sort()) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(folder);
    return undefined;
  };
  for (const folder of [...graph.keys()].sort()) {
    const cycle = visit(folder);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * A use of Deno's runtime: `Deno.readFile(...)`, `Deno.errors`, `new Deno.Command(...)`;
 * `Deno.NetAddr`, a type, is not.
 */
const DENO_RUNTIME = /\bDeno\.([a-z]\w*)|\bnew\s+Deno\.(\w+)/g;

/**
 * The uses of Deno's runtime in `lib/` outside `lib/os/`, where every effect on the
 * operating system belongs; comments do not count.
 *
 * @param sources every source file of the repository
 * @returns each use, as `file: Deno.member`
 */
export function denoOutsideOs(sources: Sources): string[] {
  const found: string[] = [];
  for (const [file, text] of sources) {
    if (!file.startsWith("lib/") || file.startsWith("lib/os/")) continue;
    for (const line of text.split("\n")) {
      if (/^\s*(\*|\/\*|\/\/)/.test(line)) continue;
      for (const m of line.matchAll(DENO_RUNTIME)) found.push(`${file}: Deno.${m[1] ?? m[2]}`);
    }
  }
  return found;
}
