/**
 * Each real config of the corpus, patched to run here (ports, folders and the executable
 * only), launches the stand-in app through pvw-launcher with the argv, the map line and the
 * answer that the real wslink launcher gave (tests/testdata/corpus/wslink_recordings.json,
 * recorded by tests/corpus/record_wslink.ts), except where pvw-launcher differs on purpose:
 * the table DIFFERENCES below lists each such place.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  argvFromLog,
  CASES,
  CORPUS,
  type CorpusCase,
  freePort,
  normalise,
  parseOriginal,
  patchConfig,
  type Patched,
  readMapLines,
  type Recording,
  RECORDINGS,
} from "../corpus/corpus.ts";
import { launchOn } from "./harness.ts";

/** How pvw-launcher's result for one corpus file departs from the wslink launcher's. */
interface Difference {
  /** The corpus case's name. */
  name: string;
  /** Whether pvw-launcher differs on purpose (else it is a known, reported difference). */
  deliberate: boolean;
  /** Why pvw-launcher does otherwise. */
  why: string;
  /** Turns the wslink recording into what pvw-launcher gives. */
  apply: (expected: Recording) => void;
}

/**
 * Every place where pvw-launcher does not do what the wslink launcher did with a corpus case.
 * Ids and generated secrets are random in both and are compared as `<id>` and `<secret>`; the
 * answers never hold the command line in either for these configs (none names "cmd" in
 * "fields"). Entries that are not deliberate are open questions, kept here so that a change in
 * either direction shows up.
 */
const DIFFERENCES: readonly Difference[] = [
  ...["trame-default-launcher.json", "visfem-setup-launcher.json"].map((name) => ({
    name,
    deliberate: true,
    why: 'an unknown application ("apps": {}) is a 400 JSON error; the wslink launcher ' +
      "fails with a KeyError, answers 500 in plain text, and leaks the port it took",
    apply: (e: Recording) => {
      e.status = 400;
      e.answer = { error: e.answer?.error };
      e.answerKeys = ["error"];
      delete e.answerText;
    },
  })),
  {
    name: "anandadake-paraview-web.launcher.config",
    deliberate: true,
    why: 'properties win over client keys: the client sends "dataDir", the config\'s ' +
      'properties hold "dataDir", and the wslink launcher lets the client\'s replace it',
    apply: (e) => {
      const at = e.argv!.indexOf("--data") + 1;
      e.argv![at] = "D:/ParaView-5.2.1/data/";
    },
  },
];

const { recordings } = JSON.parse(await Deno.readTextFile(RECORDINGS)) as {
  recordings: Recording[];
};

/** What the wslink launcher did, turned into what pvw-launcher does by DIFFERENCES. */
function expectedFor(c: CorpusCase): Recording {
  const recorded = recordings.find((r) => r.name === c.name);
  assert.ok(recorded, `no wslink recording of ${c.name}: run tests/corpus/record_wslink.ts`);
  const expected = structuredClone(recorded);
  for (const d of DIFFERENCES.filter((d) => d.name === c.name)) d.apply(expected);
  return expected;
}

/** Runs pvw-launcher on the patched copy of `c`, sends the client's POST, records it. */
async function runPvw(c: CorpusCase): Promise<Recording> {
  const dir = await Deno.makeTempDir({ prefix: "pvw-corpus-" });
  try {
    const original = parseOriginal(await Deno.readTextFile(join(CORPUS, c.file)));
    const ports = (original.resources as unknown[]).map(() => freePort());
    const patched = await patchConfig(original, { dir, listenPort: 0, ports });
    const configFile = join(dir, "launcher.json");
    await Deno.writeTextFile(configFile, JSON.stringify(patched.config, null, 2));
    const launcher = await launchOn(dir, configFile);
    try {
      return await post(c, launcher.base, patched, { dir, port: ports[0] });
    } finally {
      const status = await launcher.stop();
      assert.equal(status.code, 0, launcher.log);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Sends the client's POST and records the answer, the argv and the map file. */
async function post(
  c: CorpusCase,
  base: string,
  patched: Patched,
  run: { dir: string; port: number },
): Promise<Recording> {
  const res = await fetch(base + c.path, {
    method: "POST",
    body: JSON.stringify(c.body),
    headers: { "content-type": "text/plain;charset=UTF-8" },
  });
  const answer = await res.json();
  const id = typeof answer.id === "string" ? answer.id : undefined;
  const log = id ? await Deno.readTextFile(join(patched.logDir, `${id}.log`)) : undefined;
  const secret = "secret" in c.body ? undefined : answer.secret;
  return normalise({
    name: c.name,
    file: c.file,
    request: { method: "POST", path: c.path, body: c.body },
    status: res.status,
    answer,
    answerKeys: Object.keys(answer).sort(),
    argv: log === undefined ? null : argvFromLog(log),
    mapLines: await readMapLines(patched.mapFile),
  }, { ...run, id, secret }) as Recording;
}

for (const c of CASES) {
  Deno.test(`${c.name}: pvw-launcher launches what the wslink launcher launched`, async () => {
    const expected = expectedFor(c);
    const actual = await runPvw(c);
    if (expected.status === 400) {
      // The error's wording is pvw-launcher's own; its presence is what a client relies on.
      assert.equal(typeof actual.answer?.error, "string");
      expected.answer = { error: actual.answer?.error };
    }
    const { launcherLog: _, ...comparable } = expected as Recording & { launcherLog?: unknown };
    assert.deepEqual(actual, comparable);
  });
}
