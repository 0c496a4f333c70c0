/**
 * What the real ParaView test needs besides the launcher: where `.ci/setup-extra` puts Debian's
 * ParaView, Xvfb and the wslink 1.x venv; the seed-style launcher config that starts our
 * ParaViewWeb server; reading a JPEG's size; and the processes of a process group, from /proc.
 *
 * @module
 */

import { join } from "node:path";
import { freePortRange, processRuns } from "../integration/harness.ts";
import { E2E, ROOT } from "./tools.ts";

/** Debian's ParaView interpreter. */
export const PVPYTHON = "/usr/bin/pvpython";
/** Debian's wrapper that starts Xvfb, runs a command on its display and stops it. */
export const XVFB_RUN = "/usr/bin/xvfb-run";
/** ParaView's web modules (python3-paraview). */
export const PARAVIEW_WEB = "/usr/lib/python3/dist-packages/paraview/web/pv_wslink.py";
/** The venv with PyPI's wslink 1.x, which `pvpython` reads through `--venv`. */
export const PARAVIEW_VENV: string = join(ROOT, ".venv-paraview");
/** Our ParaViewWeb server script. */
export const PARAVIEW_SERVER: string = join(E2E, "paraview_server.py");

/**
 * A config in the spec's format and in the seed's style: `cmd` built from `$python_exec` and
 * `$server_base_path` properties, the secret passed as `--authKey $secret`, and the seed's
 * default `proxy_url`, which names a host and port the test's launcher does not listen on.
 */
export function paraviewConfig(dir: string): Record<string, unknown> {
  return {
    url: "http://localhost:8080/paraview",
    log: join(dir, "logs"),
    map_file: join(dir, "proxy.map"),
    proxy_url: "ws://localhost:8080/proxy/$id",
    wait_line: ["Starting factory"],
    timeout: 60,
    max_session: 2,
    stop_grace: 5,
    resources: [{ host: "127.0.0.1", port: freePortRange(10) }],
    applications: {
      visualizer: {
        cmd: [
          XVFB_RUN,
          // A display of its own, looked for from a number no other session starts from (its
          // port): sessions starting at once, here or in another launcher, do not race for
          // the same free display as they would from xvfb-run's default of 99.
          "--auto-servernum",
          "--server-num=$port",
          // Xvfb's own messages go to the session's log (stderr), not to /dev/null.
          "--error-file=/dev/stderr",
          "$python_exec",
          "$server_base_path/paraview_server.py",
          "--venv",
          "$venv",
          "--host",
          "$host",
          "--port",
          "$port",
          "--authKey",
          "$secret",
        ],
        dir,
      },
    },
    properties: {
      python_exec: PVPYTHON,
      server_base_path: E2E.replace(/\/$/, ""),
      venv: PARAVIEW_VENV,
    },
  };
}

/**
 * The width and height a baseline or progressive JPEG declares in its frame header.
 *
 * @throws Error when the bytes do not start like a JPEG or have no frame header
 */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error("no JPEG start-of-image marker");
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) throw new Error(`no JPEG marker at byte ${at}`);
    const marker = bytes[at + 1];
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame's size.
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return {
        height: (bytes[at + 5] << 8) | bytes[at + 6],
        width: (bytes[at + 7] << 8) | bytes[at + 8],
      };
    }
    at += 2 + length;
  }
  throw new Error("no JPEG frame header");
}

/** A process as /proc shows it. */
export interface ProcInfo {
  pid: number;
  /** Its process group. */
  pgid: number;
  /** The executable's name (`comm`), e.g. `pvpython`, `Xvfb`. */
  name: string;
  argv: string[];
}

/** Every running (not zombie) process this user may look at. */
export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || !processRuns(pid)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const pgid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").slice(0, -1);
      out.push({ pid, pgid, name, argv });
    } catch {
      // gone between the listing and the read
    }
  }
  return out;
}
