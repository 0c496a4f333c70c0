/**
 * The outside software the baselines need, found (or installed) once per run:
 * PyPI's wslink in the repository's `.venv` (created with the pinned
 * `tests/e2e/requirements.txt` when missing, as `.ci/setup-extra` does), Debian's Apache
 * httpd, and `wrk` (installed with apt-get when missing and allowed; else the bench's own
 * client is used).
 *
 * @module
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./paths.ts";

/** What this run can use. */
export interface Tools {
  /** The venv's Python, with wslink, or undefined (then wslink baselines are skipped). */
  python?: string;
  /** wslink's version. */
  wslinkVersion?: string;
  /** Apache httpd, or undefined. */
  apache?: string;
  /** Apache's version line. */
  apacheVersion?: string;
  /** `wrk`, or undefined (then the bench's own HTTP client is used). */
  wrk?: string;
  /** What was done or found missing, for the report. */
  notes: string[];
}

async function run(cmd: string, args: string[], cwd = ROOT): Promise<{ ok: boolean; out: string }> {
  try {
    const o = await new Deno.Command(cmd, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const dec = new TextDecoder();
    return { ok: o.success, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
  } catch (err) {
    return { ok: false, out: String(err) };
  }
}

async function which(name: string): Promise<string | undefined> {
  const r = await run("sh", ["-c", `command -v ${name}`]);
  return r.ok ? r.out.trim() : undefined;
}

async function wslinkVersion(python: string): Promise<string | undefined> {
  if (!existsSync(python)) return undefined;
  const r = await run(python, [
    "-c",
    "import importlib.metadata as m, wslink.launcher; print(m.version('wslink'))",
  ]);
  return r.ok ? r.out.trim() : undefined;
}

async function venv(notes: string[]): Promise<{ python?: string; version?: string }> {
  const python = join(ROOT, ".venv/bin/python");
  let version = await wslinkVersion(python);
  if (version) return { python, version };
  notes.push("created .venv with tests/e2e/requirements.txt (wslink)");
  console.error("bench: creating .venv with PyPI's wslink (tests/e2e/requirements.txt)...");
  if (!existsSync(python)) {
    const made = await run("python3", ["-m", "venv", join(ROOT, ".venv")]);
    if (!made.ok) {
      notes.push(`python3 -m venv failed: ${made.out.trim().split("\n").at(-1)}`);
      return {};
    }
  }
  const pip = await run(python, [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    "-r",
    join(ROOT, "tests/e2e/requirements.txt"),
  ]);
  if (!pip.ok) notes.push(`pip install failed: ${pip.out.trim().split("\n").at(-1)}`);
  version = await wslinkVersion(python);
  return version ? { python, version } : {};
}

/**
 * Finds (or installs) the baselines' software.
 *
 * @param install whether `wrk` may be installed with apt-get
 */
export async function findTools(install: boolean): Promise<Tools> {
  const notes: string[] = [];
  const { python, version } = await venv(notes);
  if (!python) notes.push("no wslink: the wslink baselines are skipped");
  const apache = existsSync("/usr/sbin/apache2") ? "/usr/sbin/apache2" : undefined;
  const apacheVersion = apache
    ? (await run(apache, ["-v"])).out.match(/Server version:\s*(.+)/)?.[1]?.trim()
    : undefined;
  if (!apache) notes.push("no apache2: the Apache baselines are skipped");
  let wrk = await which("wrk");
  if (!wrk && install && Deno.uid() === 0 && await which("apt-get")) {
    console.error("bench: apt-get install -y wrk ...");
    const r = await run("sh", [
      "-c",
      "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || " +
      "(apt-get update -qq >/dev/null 2>&1 && " +
      "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1)",
    ]);
    wrk = r.ok ? await which("wrk") : undefined;
    notes.push(wrk ? "installed wrk with apt-get" : "apt-get install wrk failed");
  }
  if (!wrk) notes.push("no wrk: control plane load from the bench's own keep-alive client");
  return { python, wslinkVersion: version, apache, apacheVersion, wrk, notes };
}
