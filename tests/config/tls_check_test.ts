import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../lib/config/load.ts";
import { ConfigError, type ConfigProblem } from "../../lib/config/problems.ts";
import { PKI_NEEDS, TestPki } from "../tls/pki.ts";

/** Writes a config naming `tls` (one line per member, from line 4) and loads it. */
async function load(
  dir: string,
  tls: string,
  format: "spec" | "wslink" = "spec",
): Promise<{ certificate?: unknown; problems: ConfigProblem[] }> {
  const file = join(dir, `launcher-${crypto.randomUUID()}.json`);
  const body = format === "spec"
    ? `{
  "resources": [{ "host": "localhost", "port": [9001, 9002] }],
  "applications": { "demo": { "cmd": ["demo"] } },
${tls}
  "log": "logs"
}`
    : `{
  "resources": [{ "host": "localhost", "port_range": [9001, 9002] }],
  "apps": { "demo": { "cmd": ["demo"] } },
  "configuration": {
${tls}
    "log_dir": "logs"
  }
}`;
  await Deno.writeTextFile(file, body);
  try {
    const loaded = await loadConfig(file);
    return { certificate: loaded.certificate, problems: loaded.warnings };
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems };
    throw err;
  }
}

const at = (p: ConfigProblem) => `${p.line}:${p.column} ${p.severity} ${p.path}`;

Deno.test({
  name: "loadConfig() reads the certificate and key and reports a problem at the key at fault",
  ignore: PKI_NEEDS.ignore,
  async fn(t) {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    const dir = pki.dir;
    const leaf = await pki.leaf({ keyType: "ec" });
    const other = await pki.key("ec");
    const pair = (cert: string, key: string) => `  "tls_cert": "${cert}",\n  "tls_key": "${key}",`;
    try {
      await t.step("a good pair: what it holds, no problem", async () => {
        const { certificate, problems } = await load(dir, pair(leaf.certFile, leaf.keyFile));
        assert.deepEqual(problems, []);
        const info = certificate as { names: string[]; serial: string; chainLength: number };
        assert.deepEqual(info.names, ["127.0.0.1", "localhost"]);
        assert.equal(info.serial, leaf.serial);
        assert.equal(info.chainLength, 2);
      });
      await t.step("the key of another certificate: at tls_key", async () => {
        const { problems } = await load(dir, pair(leaf.certFile, other));
        assert.deepEqual(problems.map(at), ["5:3 error tls_key"]);
        assert.match(problems[0].message, /the private key does not match the certificate/);
        assert.ok(problems[0].message.startsWith(other), problems[0].message);
      });
      await t.step("a key others may read: at tls_key", async () => {
        const loose = join(dir, "loose.key");
        await Deno.copyFile(leaf.keyFile, loose);
        await Deno.chmod(loose, 0o640);
        const { problems } = await load(dir, pair(leaf.certFile, loose));
        assert.deepEqual(problems.map(at), ["5:3 error tls_key"]);
        assert.match(problems[0].message, /mode 640 lets other users read the private key/);
      });
      await t.step("a certificate file that is not there: at tls_cert", async () => {
        const { problems } = await load(dir, pair(join(dir, "missing.pem"), leaf.keyFile));
        assert.deepEqual(problems.map(at), ["4:3 error tls_cert"]);
        assert.match(problems[0].message, /cannot read it/);
      });
      await t.step("the key given as the certificate: at tls_cert", async () => {
        const { problems } = await load(dir, pair(leaf.keyFile, leaf.keyFile));
        assert.deepEqual(problems.map(at), ["4:3 error tls_cert"]);
        assert.match(problems[0].message, /holds no PEM certificate/);
      });
      await t.step("in a tls section of the wslink format: at configuration.tls.key", async () => {
        const { problems } = await load(
          dir,
          `    "tls": {\n      "cert": "${leaf.certFile}",\n      "key": "${other}"\n    },`,
          "wslink",
        );
        assert.deepEqual(problems.map(at), ["7:7 error configuration.tls.key"]);
      });
      await t.step("a self-signed certificate is a warning at tls_cert", async () => {
        const self = await pki.untrusted();
        const { certificate, problems } = await load(dir, pair(self.certFile, self.keyFile));
        assert.ok(certificate);
        assert.deepEqual(problems.map(at), ["4:3 warning tls_cert", "4:3 warning tls_cert"]);
        assert.match(problems.map((p) => p.message).join("\n"), /self-signed/);
      });
    } finally {
      await pki.remove();
    }
  },
});
