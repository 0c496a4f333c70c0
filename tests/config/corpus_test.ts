import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../../lib/config/load.ts";
import { ConfigError, formatProblem } from "../../lib/config/problems.ts";
import { CASES, CORPUS } from "../corpus/corpus.ts";

/** Each corpus file once (a file may serve several cases). */
const FILES = [...new Map(CASES.map((c) => [c.file, c])).values()];
import { where } from "./test_utils.ts";

/**
 * The warnings each original gets, as `line:column severity path` and a message pattern. The
 * paths it names exist only on the machine it was written for, so only the parse and the
 * validation are run here (the path checks belong to the machine it runs on).
 */
const WARNINGS: Record<string, [string, RegExp][]> = {
  "wslink-test-sanitize.conf": [
    ["40:25 warning apps.test.cmd[1]", /no property gives "cmd" a value: unless the client/],
    ["40:25 warning apps.test.cmd[1]", /no property gives "cmd2" a value: unless the client/],
  ],
  "trame-default-launcher.json": [
    ["23:11 warning apps", /no applications: every launch request will be refused/],
  ],
  "pvw-docs-windows-10.json": [
    ["24:113 warning apps.visualizer.cmd[8]", /no property gives "dataDir" a value/],
    ["24:142 warning apps.visualizer.cmd[10]", /no property gives "dataFile" a value/],
  ],
  "pvw-docs-ubuntu-14-04.json": [
    ["12:7 warning configuration.upload_dir", /unknown key "upload_dir"; it is ignored/],
  ],
  "recope-pvwtest.launcher.config": [
    ["5:17 warning configuration.endpoint", /an empty endpoint serves the REST API at "\/\/"/],
  ],
  "shiwangi-visualizer.launcher.config": [
    ["11:5 warning configuration.upload_dir", /unknown key "upload_dir"; it is ignored/],
  ],
  "sandtank-ml-docker-launcher.json": [
    ["41:9 warning apps.sandtank-ml.cmd[9]", /"sandtank-ml" gets "\$\{dataDir\}" as written/],
  ],
  "visfem-setup-launcher.json": [
    ["17:11 warning apps", /no applications: every launch request will be refused/],
  ],
};

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("the corpus files are byte for byte what their sources hold", async (t) => {
  for (const c of FILES) {
    await t.step(c.file, async () => {
      assert.equal(await sha256(await Deno.readFile(join(CORPUS, c.file))), c.sha256);
    });
  }
});

Deno.test("every real config of the corpus is accepted as it is, with only the listed warnings", async (t) => {
  for (const c of FILES) {
    await t.step(c.file, async () => {
      const file = join(CORPUS, c.file);
      const text = await Deno.readTextFile(file);
      let warnings;
      try {
        ({ warnings } = parseConfig(text, file));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        assert.fail(`refused:\n${err.problems.map(formatProblem).join("\n")}`);
      }
      const expected = WARNINGS[c.file] ?? [];
      assert.deepEqual(warnings.map(where), expected.map(([at]) => at));
      warnings.forEach((w, i) => assert.match(w.message, expected[i][1]));
    });
  }
});
