/**
 * Closed-loop HTTP load: `connections` keep-alive connections, each sending the next GET as
 * soon as the previous answer is read, for a fixed time, over a list of paths taken in turn.
 * With `wrk` when it is installed (two threads, a Lua script for the paths and the summary),
 * else with the bench's own client doing the same on raw TCP.
 *
 * @module
 */

import { join } from "node:path";

/** What a load run measured. */
export interface LoadResult {
  /** Answers read. */
  requests: number;
  /** Answers that were not 2xx, and socket errors. */
  errors: number;
  /** Requests per second. */
  rps: number;
  /** Latency percentiles, in ms. */
  p50: number;
  p90: number;
  p99: number;
  /** Which client measured it. */
  client: "wrk" | "deno";
}

/** A load run. */
export interface Load {
  /** `http://host:port`. */
  base: string;
  /** Paths (with query) to GET in turn. */
  paths: string[];
  /** Open connections. */
  connections: number;
  /** How long, in ms. */
  ms: number;
  /** Environment of the load program (the run's marker). */
  env?: Record<string, string>;
}

/**
 * Runs a load with wrk when `wrk` is given, else with the bench's client.
 *
 * @param wrk the wrk binary, or undefined
 * @param dir a folder for wrk's script
 */
export async function runLoad(
  load: Load,
  wrk: string | undefined,
  dir: string,
): Promise<LoadResult> {
  return wrk ? await runWrk(load, wrk, dir) : await runRaw(load);
}

async function runWrk(load: Load, wrk: string, dir: string): Promise<LoadResult> {
  const script = join(dir, `wrk-${crypto.randomUUID()}.lua`);
  const list = load.paths.map((p) => JSON.stringify(p)).join(",\n");
  await Deno.writeTextFile(
    script,
    `local paths = {\n${list}\n}
local n = #paths
local i = 0
setup = function(thread) thread:set("offset", math.random(n)) end
init = function(args) i = tonumber(offset) or 0 end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % n) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH {\\"requests\\":%d,\\"us\\":%d,\\"errors\\":%d,\\"p50\\":%f,\\"p90\\":%f,\\"p99\\":%f}\\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
`,
  );
  try {
    const out = await new Deno.Command(wrk, {
      args: [
        "-t2",
        `-c${load.connections}`,
        `-d${Math.max(1, Math.round(load.ms / 1000))}s`,
        "--timeout",
        "10s",
        "-s",
        script,
        load.base,
      ],
      env: load.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const m = text.match(/^BENCH (\{.*\})$/m);
    if (!m) {
      throw new Error(`wrk printed no summary:\n${text}${new TextDecoder().decode(out.stderr)}`);
    }
    const r = JSON.parse(m[1]);
    return {
      requests: r.requests,
      errors: r.errors,
      rps: r.requests / (r.us / 1e6),
      p50: r.p50 / 1000,
      p90: r.p90 / 1000,
      p99: r.p99 / 1000,
      client: "wrk",
    };
  } finally {
    await Deno.remove(script).catch(() => {});
  }
}

const CRLF2 = new TextEncoder().encode("\r\n\r\n");

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** One keep-alive HTTP/1.1 connection reading `Content-Length` answers. */
class RawConnection {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(0);
  #chunk = new Uint8Array(64 * 1024);

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  async #fill(): Promise<void> {
    const n = await this.#conn.read(this.#chunk);
    if (n === null) throw new Error("the server closed the connection");
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(this.#chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
  }

  /** Sends a request and reads its answer; returns the status. */
  async request(bytes: Uint8Array): Promise<number> {
    await this.#conn.write(bytes);
    let end: number;
    while ((end = indexOf(this.#buf, CRLF2, 0)) < 0) await this.#fill();
    const head = new TextDecoder().decode(this.#buf.subarray(0, end));
    const status = Number(head.slice(9, 12));
    const length = Number(head.match(/\r\ncontent-length:\s*(\d+)/i)?.[1] ?? NaN);
    if (!Number.isFinite(length)) throw new Error("an answer without Content-Length");
    const total = end + 4 + length;
    while (this.#buf.length < total) await this.#fill();
    this.#buf = this.#buf.slice(total);
    return status;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }
}

async function runRaw(load: Load): Promise<LoadResult> {
  const url = new URL(load.base);
  const requests = load.paths.map((p) =>
    new TextEncoder().encode(`GET ${p} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`)
  );
  const samples: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + load.ms;
  const worker = async (w: number) => {
    const conn = new RawConnection(
      await Deno.connect({ hostname: url.hostname, port: Number(url.port) }),
    );
    try {
      for (let i = w * 97; performance.now() < end; i++) {
        const s = performance.now();
        const status = await conn.request(requests[i % requests.length]);
        samples.push(performance.now() - s);
        if (status < 200 || status > 299) errors++;
      }
    } finally {
      conn.close();
    }
  };
  await Promise.all(Array.from({ length: load.connections }, (_, w) => worker(w)));
  const elapsed = performance.now() - t0;
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * p))];
  return {
    requests: samples.length,
    errors,
    rps: samples.length / (elapsed / 1000),
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    client: "deno",
  };
}
