import assert from "node:assert/strict";
import { join, relative } from "node:path";
import {
  denoOutsideOs,
  folderCycle,
  folderGraph,
  importsOf,
  type Sources,
  violations,
} from "./layout.ts";

const ROOT = join(import.meta.dirname!, "..");
// Its examples of broken imports are broken on purpose.
const SELF = import.meta.filename!;

/** The TypeScript sources of the repository, by path from its root (but this file). */
function repository(): Sources {
  const sources = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) walk(path);
      else if (entry.name.endsWith(".ts") && path !== SELF) {
        sources.set(relative(ROOT, path), Deno.readTextFileSync(path));
      }
    }
  };
  for (const dir of ["lib", "tests", "bench", "examples"]) walk(join(ROOT, dir));
  sources.set("main.ts", Deno.readTextFileSync(join(ROOT, "main.ts")));
  return sources;
}

Deno.test("importsOf() finds static, bare, dynamic and URL imports, and no import in a comment", () => {
  const text = [
    'import { a } from "./a.ts";',
    "import {",
    "  b,",
    '} from "../lib/b/mod.ts";',
    'export type { C } from "./c.ts";',
    'import "./side.ts";',
    'const d = await import("./d.ts");',
    'const e = new URL("../lib/e/e.ts", import.meta.url);',
    ' * import { NotThis } from "./doc.ts";',
    'import { parseArgs } from "node:util";',
  ].join("\n");
  assert.deepEqual(importsOf("tests/x_test.ts", text).sort(), [
    "lib/b/mod.ts",
    "lib/e/e.ts",
    "tests/a.ts",
    "tests/c.ts",
    "tests/d.ts",
    "tests/side.ts",
  ]);
});

Deno.test("violations() catches each broken rule, and allows what the rules allow", async (t) => {
  const base: [string, string][] = [
    ["lib/a/mod.ts", 'export { x } from "./x.ts";'],
    ["lib/a/x.ts", "export const x = 1;"],
    ["lib/b/mod.ts", 'export { y } from "./y.ts";'],
  ];
  const cases: [string, [string, string][], string[]][] = [
    [
      "a folder imported through its mod.ts",
      [["lib/b/y.ts", 'import { x } from "../a/mod.ts";']],
      [],
    ],
    ["a module of the same folder", [["lib/a/z.ts", 'import { x } from "./x.ts";']], []],
    [
      "a folder's own unit test",
      [["tests/a/x_test.ts", 'import { x } from "../../lib/a/x.ts";']],
      [],
    ],
    ["assets from lib", [[
      "lib/b/y.ts",
      'import page from "../../assets/p.html" with { type: "text" };',
    ]], []],
    ["another folder's module", [["lib/b/y.ts", 'import { x } from "../a/x.ts";']], [
      "lib/b/y.ts -> lib/a/x.ts: import lib/a/ through lib/a/mod.ts",
    ]],
    ["a module from main.ts", [["main.ts", 'import { x } from "./lib/a/x.ts";']], [
      "main.ts -> lib/a/x.ts: import lib/a/ through lib/a/mod.ts",
    ]],
    ["another folder's module from a folder's test", [[
      "tests/b/y_test.ts",
      'import { x } from "../../lib/a/x.ts";',
    ]], [
      "tests/b/y_test.ts -> lib/a/x.ts: import lib/a/ through lib/a/mod.ts",
    ]],
    ["a module from an integration test, by URL", [[
      "tests/integration/i_test.ts",
      'new URL("../../lib/a/x.ts", import.meta.url)',
    ]], [
      "tests/integration/i_test.ts -> lib/a/x.ts: import lib/a/ through lib/a/mod.ts",
    ]],
    ["tests from lib", [["lib/b/y.ts", 'import { f } from "../../tests/fakes.ts";']], [
      "lib/b/y.ts -> tests/fakes.ts: lib imports nothing outside lib but assets",
    ]],
    ["a module outside any folder", [["lib/loose.ts", "export const z = 3;"]], [
      "lib/loose.ts -> lib/loose.ts: every lib module is in a folder lib/<folder>/",
    ]],
    ["a folder without mod.ts", [["lib/c/z.ts", "export const z = 3;"]], [
      "lib/c -> : every lib folder has a mod.ts",
    ]],
  ];
  for (const [name, extra, expected] of cases) {
    await t.step(name, () => {
      const found = violations(new Map([...base, ...extra]));
      assert.deepEqual(found.map((v) => `${v.file} -> ${v.target}: ${v.rule}`), expected);
    });
  }
});

Deno.test("folderCycle() finds a cycle through several folders, and none in a layered graph", () => {
  const graph = (edges: Record<string, string[]>) =>
    new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));
  assert.equal(folderCycle(graph({ a: ["b"], b: ["c"], c: [], d: ["a", "c"] })), undefined);
  assert.deepEqual(folderCycle(graph({ a: ["b"], b: ["c"], c: ["a"], d: ["a"] })), [
    "a",
    "b",
    "c",
    "a",
  ]);
  assert.deepEqual(
    folderCycle(folderGraph(
      new Map([
        ["lib/a/mod.ts", 'import type { Y } from "../b/mod.ts";'],
        ["lib/b/mod.ts", 'export type { X } from "../a/mod.ts";'],
      ]),
    )),
    ["a", "b", "a"],
  );
});

Deno.test("the repository keeps the layout: lib in folders, each entered only through its mod.ts", () => {
  const found = violations(repository());
  assert.deepEqual(found.map((v) => `${v.file} -> ${v.target}: ${v.rule}`), []);
});

Deno.test("lib's folders import one another in layers, never in a cycle", () => {
  const graph = folderGraph(repository());
  assert.ok(graph.size >= 8, `expected lib's folders, found ${[...graph.keys()]}`);
  assert.equal(folderCycle(graph), undefined);
});

Deno.test("denoOutsideOs() finds calls into Deno's runtime outside lib/os/, not types or comments", () => {
  const sources = new Map([
    ["lib/os/files.ts", "const text = await Deno.readTextFile(path);"],
    ["lib/a/x.ts", "const env = Deno.env.toObject();\nconst addr: Deno.NetAddr = at;"],
    ["lib/a/y.ts", "// Deno.exit(1) would end the launcher\n * Deno.serve in main.ts"],
    ["lib/a/z.ts", "if (err instanceof Deno.errors.NotFound) return;"],
    ["lib/a/w.ts", "const child = new Deno.Command(program, { args });"],
    ["main.ts", "Deno.serve(handler);"],
  ]);
  assert.deepEqual(denoOutsideOs(sources), [
    "lib/a/x.ts: Deno.env",
    "lib/a/z.ts: Deno.errors",
    "lib/a/w.ts: Deno.Command",
  ]);
});

Deno.test("every effect of lib on the operating system is in lib/os/", () => {
  assert.deepEqual(denoOutsideOs(repository()), [
    // Upgrading the request being served is the HTTP server's own API, as Deno.serve is.
    "lib/proxy/session_proxy.ts: Deno.upgradeWebSocket",
    // A TLS client made from a certificate and key, never used: Deno's own check of the pair.
    "lib/tls/certificate.ts: Deno.createHttpClient",
  ]);
});
