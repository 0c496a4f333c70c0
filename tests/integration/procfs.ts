/**
 * What the kernel says about a running launcher: its child processes and its open file
 * descriptors, read from /proc (Linux).
 */

/** Pids whose parent is `pid`, zombies included. */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue; // it ended while we looked
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === pid) children.push(Number(entry.name));
  }
  return children;
}

/** The number of file descriptors `pid` holds open. */
export function openFds(pid: number): number {
  let n = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  return n;
}

/** The names in a folder, or none when it does not exist. */
export async function filesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names.sort();
}

/** The TCP connections (not listeners) `pid` holds, as `local -> remote state` lines. */
export function tcpConnectionsOf(pid: number): string[] {
  const inodes = new Set<string>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const m = Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`).match(/^socket:\[(\d+)\]$/);
      if (m) inodes.add(m[1]);
    } catch {
      // closed while we looked
    }
  }
  const found: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(table);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode; 0A = LISTEN
      if (f.length > 9 && inodes.has(f[9]) && f[3] !== "0A") {
        found.push(`${f[1]} -> ${f[2]} ${f[3]}`);
      }
    }
  }
  return found;
}

/** What `pid`'s descriptors point at, for a failure message. */
export function describeFds(pid: number): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(`${entry.name} -> ${Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`)}`);
    } catch {
      // closed while we looked
    }
  }
  return out.sort();
}

/**
 * Waits until `condition` holds, checking it every few milliseconds (the kernel tells no one
 * when a process closes a descriptor or reaps a child), and fails after `ms`.
 */
export async function until(
  condition: () => boolean,
  ms: number,
  what: () => string,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A free range of `count` ports on 127.0.0.1 below the kernel's ephemeral range, so that no
 * client connection of the test itself (thousands, in the fuzz test) can take one of them.
 */
export function portsOutsideEphemeral(count: number): [number, number] {
  const low = Number(
    Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(/\s+/)[0],
  );
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 10_000 + Math.floor(Math.random() * (low - 10_000 - count));
    const free = Array.from({ length: count }, (_, i) => first + i).every((port) => {
      try {
        Deno.listen({ hostname: "127.0.0.1", port }).close();
        return true;
      } catch {
        return false;
      }
    });
    if (free) return [first, first + count - 1];
  }
  throw new Error("no free port range below the ephemeral range");
}

/**
 * Kills the process group of every process whose stdout is a file under `folder`: the
 * sessions of a test's launcher, wherever the test failed.
 */
export function killSessionsIn(folder: string): void {
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let out: string;
    try {
      out = Deno.readLinkSync(`/proc/${entry.name}/fd/1`);
    } catch {
      continue;
    }
    if (!out.startsWith(`${folder}/`)) continue;
    try {
      Deno.kill(-Number(entry.name), "SIGKILL");
    } catch {
      // not a group leader, or gone: its leader is in the list too
    }
  }
}
