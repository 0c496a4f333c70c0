/**
 * Micro-benchmarks of the launcher's hot paths: rendering an application's command,
 * acquiring and releasing ports, and watching a process's output for its ready line.
 *
 * Run with `deno bench --frozen --allow-all bench/micro_bench.ts`. For the LineMatcher
 * groups, throughput is 100 MiB divided by the time per iteration; each group's baseline is a
 * bare `TextDecoder` pass over the same bytes, so the printed ratio is LineMatcher's overhead.
 *
 * @module
 */

import { LineMatcher, PortPool } from "../lib/sessions/mod.ts";
import { compileTemplate, renderTemplate } from "../lib/config/mod.ts";

// --- template ---------------------------------------------------------------------------

const CMD = [
  "$python_exec",
  "-m",
  "paraview.apps.visualizer",
  "--host=${host}",
  "--port=${port}",
  "--authKey=${secret}",
  "--data=${data_dir}/${file}",
  "--timeout=300",
];
const VALUES = new Map([
  ["python_exec", "/opt/paraview/bin/pvpython"],
  ["host", "0.0.0.0"],
  ["port", "9001"],
  ["secret", "b1946ac92492d2347c6235b4d2611184"],
  ["data_dir", "/data"],
  ["file", "can.ex2"],
]);
const lookup = (name: string) => VALUES.get(name);
const COMPILED = CMD.map(compileTemplate);

Deno.bench("render 8-element cmd with 6 variables, compiled once", {
  group: "template",
  baseline: true,
}, () => {
  COMPILED.map((t) => renderTemplate(t, lookup, "bench"));
});

Deno.bench("compile and render 8-element cmd with 6 variables", { group: "template" }, () => {
  CMD.map((t) => renderTemplate(t, lookup, "bench"));
});

// --- port pool --------------------------------------------------------------------------

const PORTS = [{ host: "0.0.0.0", first: 10_001, last: 20_000 }];
const freePool = new PortPool(PORTS);
const fullPool = new PortPool(PORTS);
for (let i = 1; i < 10_000; i++) fullPool.acquire();

Deno.bench("acquire + release, 10,000 ports all free", {
  group: "port_pool",
  baseline: true,
}, () => {
  freePool.release(freePool.acquire());
});

Deno.bench("acquire + release, 10,000 ports, 9,999 in use", { group: "port_pool" }, () => {
  fullPool.release(fullPool.acquire());
});

Deno.bench("new PortPool() of 10,000 ports", { group: "port_pool" }, () => {
  new PortPool(PORTS);
});

// --- line matcher -----------------------------------------------------------------------

const MIB = 1024 * 1024;
const CHUNK = 64 * 1024;
const NEEDLES = ["wslink: Starting factory", "App running at"];

/** 100 MiB of log output in 64 KiB chunks, the ready line at the very end. */
function output(lines: string[]): Uint8Array[] {
  let text = "";
  for (let i = 0; text.length < 2 * CHUNK; i++) {
    text += lines[i % lines.length].replace("#", `${i}`);
  }
  const filler = new TextEncoder().encode(text).subarray(0, CHUNK);
  const chunks = Array.from({ length: (100 * MIB) / CHUNK - 1 }, () => filler);
  const last = new Uint8Array(CHUNK).fill(0x20);
  last.set(new TextEncoder().encode(`\n${NEEDLES[0]}`), CHUNK - NEEDLES[0].length - 1);
  return [...chunks, last];
}

const ASCII_LOG = output([
  "2024-05-01 12:00:0#.123 (  12.345s) [main thread     ]  vtkPVPluginLoader.cxx:312   INFO| Loaded plugin #\n",
  "wslink: Registering protocol vtkWebMouseHandler #\n",
  "(   3.201s) [paraview        ]    vtkSMSessionProxyManager.cxx:1402  WARN| Reader for /data/run#/can.ex2 is slow\n",
  "[2024-05-01 12:00:01] DEBUG trame.app.core state change: time_step=# view_update=True\n",
]);
const UTF8_LOG = output([
  "2024-05-01 12:00:0#.123 → maillage chargé en # µs ✓ (données: /données/résultat_#.vtu)\n",
  "[серверный] шаг # завершён — ok\n",
]);

function decodeOnly(chunks: Uint8Array[]): void {
  const decoder = new TextDecoder();
  for (const chunk of chunks) decoder.decode(chunk, { stream: true });
  decoder.decode();
}

function matchReadyLine(chunks: Uint8Array[]): void {
  const matcher = new LineMatcher(NEEDLES);
  for (const chunk of chunks) matcher.push(chunk);
  if (matcher.end() !== NEEDLES[0]) throw new Error("the ready line was not found");
}

for (const [name, chunks] of [["ASCII", ASCII_LOG], ["UTF-8", UTF8_LOG]] as const) {
  const group = `LineMatcher, 100 MiB of ${name} log in 64 KiB chunks`;
  Deno.bench(
    `TextDecoder only, 100 MiB ${name}`,
    { group, baseline: true, n: 10, warmup: 2 },
    () => {
      decodeOnly(chunks);
    },
  );
  Deno.bench(`LineMatcher, 100 MiB ${name}`, { group, n: 10, warmup: 2 }, () => {
    matchReadyLine(chunks);
  });
}
