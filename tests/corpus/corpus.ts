/**
 * The corpus of real launcher configs (`tests/testdata/corpus/`, sources in `SOURCES.md`
 * there) and what both the recorder (`record_wslink.ts`, the real wslink launcher) and the
 * corpus tests (pvw-launcher) do with each: the request a real client sends, the patched copy
 * that runs on this machine, the stand-in app, and the normalised record of what happened.
 *
 * A patched copy changes only ports, folders and the executable: the listening port, each
 * resource's port range (one free port), `log_dir`, `proxy_file`, a non-empty `content`, and
 * each app's executable (the property its `cmd[0]` names, else `cmd[0]` itself) becomes the
 * stand-in, which prints its argv and then the config's ready lines.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseJsonc } from "jsonc-parser";

/** The folder of the corpus files. */
export const CORPUS: string = fileURLToPath(new URL("../testdata/corpus/", import.meta.url));

/** The recordings of the real wslink launcher, written by `record_wslink.ts`. */
export const RECORDINGS: string = join(CORPUS, "wslink_recordings.json");

/** One corpus file and a request a real client of that deployment sends. */
export interface CorpusCase {
  /** The case's name: the file's, plus what the request tries when a file has several. */
  name: string;
  /** The file name in the corpus folder. */
  file: string;
  /** SHA-256 of its bytes, as fetched from its source. */
  sha256: string;
  /** The path the client POSTs to, where the wslink launcher serves the endpoint. */
  path: string;
  /** The POST body the real client sends (as text/plain, like the JavaScript clients). */
  body: Record<string, unknown>;
  /** Where that body comes from. */
  client: string;
}

const TRAME_CLIENT = "trame-client vue3-app main.js + core/wslink configDecorator (html " +
  "data-app-name `trame`, no query parameters)";

/** Every corpus file with its client's request. */
export const CASES: readonly CorpusCase[] = [
  {
    name: "wslink-simple.launcher.config",
    file: "wslink-simple.launcher.config",
    sha256: "ea0a523a9fc1e21af30ae6beda3972a9c22f5fe481ccfa2a0b345b6d7c340d2d",
    path: "/paraview/",
    body: { application: "simple" },
    client: "wslink js-lib/test/simple.js: SmartConnect({config: {application: 'simple'}})",
  },
  {
    name: "wslink-test-sanitize.conf",
    file: "wslink-test-sanitize.conf",
    sha256: "99fc46fd3ddd541b8f3faf124926260dbd2ce71967e8110cbfcbe25325c028e5",
    path: "/paraview/",
    body: { application: "test", cmd: "meX", cmd2: 'hello"912' },
    client: "the curl command in the file's own comment",
  },
  {
    name: "wslink-test-sanitize.conf (a file name with a non-ASCII letter)",
    file: "wslink-test-sanitize.conf",
    sha256: "99fc46fd3ddd541b8f3faf124926260dbd2ce71967e8110cbfcbe25325c028e5",
    path: "/paraview/",
    body: { application: "test", cmd: "you", cmd2: "données/can.ex2" },
    client: "the same curl command, with values that pass the file's rules in Python",
  },
  {
    name: "trame-default-launcher.json",
    file: "trame-default-launcher.json",
    sha256: "f6e4f09214ce59154b79eab39ad754fef90c686cc96cd2a1493042e1c9a2b5a5",
    path: "/paraview/",
    body: { application: "trame", useUrl: true, launcherRetry: [] },
    client: TRAME_CLIENT,
  },
  {
    name: "trame-validation-launcher.json",
    file: "trame-validation-launcher.json",
    sha256: "930887ecc3facbe1c75f1cc1ac0fbdc1fc20c1b59b70da6c90bd6de3957740e7",
    path: "/paraview/",
    body: { application: "trame", useUrl: true, launcherRetry: [] },
    client: TRAME_CLIENT,
  },
  {
    name: "pvw-docker-lite-launcher-template.json",
    file: "pvw-docker-lite-launcher-template.json",
    sha256: "b59169187f55f1957721212b7cdea8dbf511895a09df20467ab43f6b17f9a54a",
    path: "/paraview/",
    body: { application: "paraview-lite" },
    client: "ParaView Lite: SmartConnect with {application: 'paraview-lite'}",
  },
  {
    name: "pvw-docs-windows-10.json",
    file: "pvw-docs-windows-10.json",
    sha256: "f7521aaa0a64d6666f93e91c9e8e9bd958973a842d3020857ad79b6e4e330f7c",
    path: "/paraview/",
    body: { application: "visualizer", dataFile: "can.ex2", dataDir: "D:\\data\\cases\\" },
    client: "the Visualizer.connect({application, dataFile, dataDir}) script of the same page",
  },
  {
    name: "pvw-docs-ubuntu-14-04.json",
    file: "pvw-docs-ubuntu-14-04.json",
    sha256: "80cab26b2efb06e748c75663847d4a7b4aeae8dc2d73867445595066873f4694",
    path: "/paraview/",
    body: { application: "visualizer" },
    client: "Visualizer.connect({application: 'visualizer'})",
  },
  {
    name: "recope-pvwtest.launcher.config",
    file: "recope-pvwtest.launcher.config",
    sha256: "bc4e128406851b4566ff668f6d82d4ab18e91e270bd7f51e508a492c1b200c6a",
    path: "//",
    body: { application: "cloudcad" },
    client: "the repository's index.html: SimpleDemoClient.connect({application: 'cloudcad'})",
  },
  {
    name: "anandadake-paraview-web.launcher.config",
    file: "anandadake-paraview-web.launcher.config",
    sha256: "5155a0011f17f7d694387becd6b8121d4e9a73508da84c3fcf32a24acb688477",
    path: "/paraview/",
    body: { application: "visualizer", dataFile: "can.ex2", dataDir: "D:\\data\\cases\\" },
    client: "the repository's index.html: Visualizer.connect({application, dataFile, dataDir})",
  },
  {
    name: "dobatruong-3dviewer.launcher.config",
    file: "dobatruong-3dviewer.launcher.config",
    sha256: "2393c47e1066d9e4326bb8c655a66275c80227485c5edf5d456b39e2a1f46fc3",
    path: "/paraview/",
    body: { application: "trame", useUrl: true },
    client: "the repository's mytest.py: requests.post(url, json={'application': 'trame', " +
      "'useUrl': True})",
  },
  {
    name: "shiwangi-visualizer.launcher.config",
    file: "shiwangi-visualizer.launcher.config",
    sha256: "e452690b6c904db5497792361547c24ae409ab02a5402f226a6ee8fd29bf3c07",
    path: "/paraview/",
    body: { application: "visualizer" },
    client: "Visualizer.connect({application: 'visualizer'})",
  },
  {
    name: "sandtank-ml-docker-launcher.json",
    file: "sandtank-ml-docker-launcher.json",
    sha256: "c1570c6ccb0d883d2f812b4a6454cbbb46a496cb239c1b71d8eaef5dcb3721ac",
    path: "/paraview/",
    body: { application: "sandtank-ml" },
    client: "the repository's src/store/wslink.js: config = {application: 'sandtank-ml'}",
  },
  {
    name: "visfem-setup-launcher.json",
    file: "visfem-setup-launcher.json",
    sha256: "44d1938ec4a212ddb648f04598e467d21159622358e43298662e11d41a45f5b7",
    path: "/paraview/",
    body: { application: "trame", useUrl: true, launcherRetry: [] },
    client: TRAME_CLIENT,
  },
];

/** Where a patched copy puts things, and the ports it uses. */
export interface PatchPlan {
  /** The folder of the run: logs, map file, content, stand-in. */
  dir: string;
  /** `configuration.port`. */
  listenPort: number;
  /** One free port per resource, in order. */
  ports: number[];
}

/** What a patched copy changed, for the record and for normalising. */
export interface Patched {
  /** The config object to write. */
  config: Record<string, unknown>;
  /** The stand-in's path. */
  standIn: string;
  /** The folder the sessions' logs go to. */
  logDir: string;
  /** The map file. */
  mapFile: string;
}

type Json = Record<string, unknown>;

/**
 * Reads a corpus file's original text as the wslink launcher does (comments allowed).
 *
 * @param text the original text
 * @returns the parsed object
 */
export function parseOriginal(text: string): Json {
  return parseJsonc(text, [], { allowTrailingComma: true }) as Json;
}

/**
 * Makes the patched copy of a wslink-format config, and writes its stand-in app and content
 * folder under `plan.dir`.
 *
 * @param original the parsed original
 * @param plan where to put things
 * @returns the patched config and the paths it uses
 */
export async function patchConfig(original: Json, plan: PatchPlan): Promise<Patched> {
  const config = structuredClone(original);
  const conf = config.configuration as Json;
  const logDir = join(plan.dir, "logs");
  const mapFile = join(plan.dir, "proxy-mapping.txt");
  const standIn = join(plan.dir, "bin", "standin");
  conf.host = "127.0.0.1";
  conf.port = plan.listenPort;
  conf.log_dir = logDir;
  conf.proxy_file = mapFile;
  if (typeof conf.content === "string" && conf.content !== "") {
    const content = conf.content = join(plan.dir, "www");
    await Deno.mkdir(content, { recursive: true });
    await Deno.writeTextFile(join(content, "index.html"), "<h1>corpus</h1>\n");
  }
  (config.resources as Json[]).forEach((r, i) => r.port_range = [plan.ports[i], plan.ports[i]]);
  const apps = Object.values(config.apps as Record<string, Json>);
  for (const app of apps) {
    replaceExecutable(app.cmd as string[], config.properties as Json, standIn);
  }
  // Closed to other users, as pvw-launcher requires of a log folder (session ids are its names).
  await Deno.mkdir(logDir, { recursive: true, mode: 0o700 });
  await writeStandIn(standIn, apps.map((app) => app.ready_line as string));
  return { config, standIn, logDir, mapFile };
}

/** Points the executable at the stand-in: the property `cmd[0]` names, else `cmd[0]`. */
function replaceExecutable(cmd: string[], properties: Json, standIn: string): void {
  const named = /^\$(?:\{(\w+)\}|(\w+))$/.exec(cmd[0]);
  const property = named ? named[1] ?? named[2] : undefined;
  if (property !== undefined && Object.hasOwn(properties, property)) properties[property] = standIn;
  else cmd[0] = standIn;
}

/**
 * The stand-in app: prints `argv[0]=` and one `arg=` line per argument, then every ready line
 * of the config (the last with no newline, as wslink servers print theirs), then waits.
 */
async function writeStandIn(path: string, readyLines: string[]): Promise<void> {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const lines = [...new Set(readyLines)];
  const script = [
    "#!/bin/sh",
    `printf 'argv[0]=%s\\n' "$0"`,
    `for a in "$@"; do printf 'arg=%s\\n' "$a"; done`,
    ...lines.map((l, i) => `printf ${i === lines.length - 1 ? "'%s'" : "'%s\\n'"} ${quote(l)}`),
    "exec sleep 3600",
    "",
  ].join("\n");
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, script, { mode: 0o755 });
}

/**
 * Reads the argv the stand-in printed into its session log.
 *
 * @param log the session log's text
 * @returns argv, `argv[0]` first
 */
export function argvFromLog(log: string): string[] {
  const argv: string[] = [];
  for (const line of log.split("\n")) {
    if (line.startsWith("argv[0]=")) argv.push(line.slice("argv[0]=".length));
    else if (line.startsWith("arg=")) argv.push(line.slice("arg=".length));
  }
  return argv;
}

/** The values a normalised record hides: they differ from run to run. */
export interface RunValues {
  /** The run's folder. */
  dir: string;
  /** The session id, when there is one. */
  id?: string;
  /** The session's secret, when the launcher generated it (not the client's). */
  secret?: string;
  /** The session's port. */
  port?: number;
}

/**
 * Replaces the run's folder, id, generated secret and port by `<dir>`, `<id>`, `<secret>` and
 * `<port>`, in strings and in values equal to the port.
 *
 * @param value anything JSON
 * @param run the values of this run
 * @returns the same shape, normalised
 */
export function normalise(value: unknown, run: RunValues): unknown {
  if (typeof value === "string") return normaliseText(value, run);
  if (typeof value === "number") return value === run.port ? "<port>" : value;
  if (Array.isArray(value)) return value.map((v) => normalise(v, run));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v, run)]));
  }
  return value;
}

function normaliseText(text: string, run: RunValues): string {
  let out = text.replaceAll(run.dir, "<dir>");
  if (run.id) out = out.replaceAll(run.id, "<id>");
  if (run.secret) out = out.replaceAll(run.secret, "<secret>");
  if (run.port !== undefined) {
    out = out.replace(new RegExp(`(?<!\\d)${run.port}(?!\\d)`, "g"), "<port>");
  }
  return out;
}

/** What a launcher did with one corpus case, normalised. */
export interface Recording {
  /** The case's name. */
  name: string;
  /** The corpus file. */
  file: string;
  /** The request sent. */
  request: { method: "POST"; path: string; body: Record<string, unknown> };
  /** The answer's status. */
  status: number;
  /** The answer's JSON body, or null when it was not JSON. */
  answer: Record<string, unknown> | null;
  /** The answer's keys, sorted (empty when it was not JSON). */
  answerKeys: string[];
  /** The answer's text when it was not JSON. */
  answerText?: string;
  /** The argv the stand-in received, or null when no session started. */
  argv: string[] | null;
  /** The map file's lines (a missing file has none). */
  mapLines: string[];
}

/**
 * Reads the map file's lines, ignoring comments; a missing file has none.
 *
 * @param file the map file
 * @returns its lines
 */
export async function readMapLines(file: string): Promise<string[]> {
  try {
    const text = await Deno.readTextFile(file);
    return text.split("\n").filter((l) => l && !l.startsWith("#"));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/**
 * A free TCP port on 127.0.0.1 (bound and released: best effort).
 *
 * @returns the port
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
