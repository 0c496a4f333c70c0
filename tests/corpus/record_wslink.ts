/**
 * Records what the real wslink launcher (`python -m wslink.launcher` from PyPI, in `.venv`,
 * installed by `.ci/setup-extra`) does with each corpus config: it runs the launcher on the
 * patched copy, POSTs the body the deployment's real client sends, and writes the argv the
 * stand-in app received, the map file's lines and the answer, normalised, to
 * `tests/testdata/corpus/wslink_recordings.json`. The corpus tests hold pvw-launcher to it.
 *
 * Re-record with: deno run --frozen -A tests/corpus/record_wslink.ts
 *
 * @module
 */

import process from "node:process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  argvFromLog,
  CASES,
  CORPUS,
  type CorpusCase,
  freePort,
  normalise,
  parseOriginal,
  patchConfig,
  readMapLines,
  type Recording,
  RECORDINGS,
} from "./corpus.ts";
import { within } from "../integration/harness.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = join(ROOT, ".venv/bin/python");

/** A recording plus what the wslink launcher logged as a warning or an error. */
interface WslinkRecording extends Recording {
  /** The WARNING and ERROR lines of its `launcherLog.log`, without timestamps. */
  launcherLog: string[];
}

/** The wslink launcher running on one patched config, in its own process group. */
class WslinkLauncher {
  readonly child: Deno.ChildProcess;
  #output = "";
  #changed: () => void = () => {};
  readonly #pumped: Promise<void>;

  constructor(configFile: string, cwd: string) {
    this.child = new Deno.Command("/usr/bin/setsid", {
      args: ["--", PYTHON, "-m", "wslink.launcher", configFile],
      cwd,
      env: { PYTHONUNBUFFERED: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#pumped = Promise.all([this.#pump(this.child.stdout), this.#pump(this.child.stderr)])
      .then(() => {});
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      this.#output += text;
      this.#changed();
    }
  }

  /** Waits for aiohttp's "Running on" line, failing if the launcher exits first. */
  async listening(): Promise<void> {
    const exited = this.child.status.then((s) => {
      throw new Error(`the wslink launcher exited (${s.code}):\n${this.#output}`);
    });
    const running = new Promise<void>((resolve) => {
      this.#changed = () => this.#output.includes("Running on http") && resolve();
      this.#changed();
    });
    try {
      await within(30_000, "the wslink launcher to listen", Promise.race([running, exited]));
    } finally {
      exited.catch(() => {});
    }
  }

  /** Stops the launcher and every session it started (its whole process group). */
  async stop(): Promise<void> {
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      try {
        process.kill(-this.child.pid, signal);
      } catch {
        // the group is gone
      }
      const done = await within(5_000, "the wslink launcher to exit", this.child.status)
        .then(() => true, () => false);
      if (done) break;
    }
    await this.#pumped;
  }
}

async function record(c: CorpusCase): Promise<WslinkRecording> {
  const dir = await Deno.makeTempDir({ prefix: "wslink-corpus-" });
  const original = parseOriginal(await Deno.readTextFile(join(CORPUS, c.file)));
  const ports = (original.resources as unknown[]).map(() => freePort());
  const listenPort = freePort();
  const patched = await patchConfig(original, { dir, listenPort, ports });
  const configFile = join(dir, "launcher.json");
  await Deno.writeTextFile(configFile, JSON.stringify(patched.config, null, 2));
  const launcher = new WslinkLauncher(configFile, dir);
  try {
    await launcher.listening();
    const res = await fetch(`http://127.0.0.1:${listenPort}${c.path}`, {
      method: "POST",
      body: JSON.stringify(c.body),
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
    const text = await res.text();
    const answer = parseObject(text);
    const id = typeof answer?.id === "string" ? answer.id : undefined;
    const log = id ? await Deno.readTextFile(join(patched.logDir, `${id}.txt`)) : undefined;
    const secret = "secret" in c.body ? undefined : answer?.secret as string | undefined;
    const run = { dir, id, secret, port: ports[0] };
    return normalise({
      name: c.name,
      file: c.file,
      request: { method: "POST", path: c.path, body: c.body },
      status: res.status,
      answer,
      answerKeys: answer ? Object.keys(answer).sort() : [],
      ...(answer ? {} : { answerText: text }),
      argv: log === undefined ? null : argvFromLog(log),
      mapLines: await readMapLines(patched.mapFile),
      launcherLog: await warnings(join(patched.logDir, "launcherLog.log")),
    }, run) as WslinkRecording;
  } finally {
    await launcher.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

async function warnings(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(file).catch(() => "");
  return text.split("\n")
    .map((line) => line.replace(/^[\d-]+ [\d:,]+:/, ""))
    .filter((line) => /^(WARNING|ERROR):/.test(line));
}

async function wslinkVersion(): Promise<string> {
  const { stdout } = await new Deno.Command(PYTHON, {
    args: [
      "-c",
      "import importlib.metadata as m, sys; print(m.version('wslink'), sys.version.split()[0])",
    ],
  }).output();
  return new TextDecoder().decode(stdout).trim();
}

if (import.meta.main) {
  const [wslink, python] = (await wslinkVersion()).split(" ");
  const recordings: WslinkRecording[] = [];
  for (const c of CASES) {
    console.log(`recording ${c.name}`);
    recordings.push(await record(c));
  }
  const out = {
    recordedWith: `the real wslink launcher: python -m wslink.launcher, PyPI wslink ${wslink}, ` +
      `Python ${python}`,
    recordedBy:
      "tests/corpus/record_wslink.ts (deno run --frozen -A tests/corpus/record_wslink.ts)",
    recordedOn: new Date().toISOString().slice(0, 10),
    recordings,
  };
  await Deno.writeTextFile(RECORDINGS, JSON.stringify(out, null, 2) + "\n");
  console.log(`wrote ${RECORDINGS}`);
}
