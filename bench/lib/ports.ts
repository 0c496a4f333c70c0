/**
 * Port ranges for the sessions of the launchers a run starts: below the kernel's ephemeral
 * range (so no client socket can hold one), each port checked free, and no two ranges of one
 * run overlapping.
 *
 * @module
 */

const claimed: [number, number][] = [];

function ephemeralStart(): number {
  try {
    const [first] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(
      /\s+/,
    );
    return Number(first) || 32768;
  } catch {
    return 32768;
  }
}

function free(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * A free range of `count` ports on 127.0.0.1.
 *
 * @returns the first and last port
 * @throws Error when none is found
 */
export function portRange(count: number): [number, number] {
  const top = Math.min(ephemeralStart(), 65535) - count - 1;
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = 10_000 + Math.floor(Math.random() * (top - 10_000));
    const last = first + count - 1;
    if (claimed.some(([a, b]) => first <= b && a <= last)) continue;
    let ok = true;
    for (let p = first; p <= last && ok; p++) ok = free(p);
    if (!ok) continue;
    claimed.push([first, last]);
    return [first, last];
  }
  throw new Error(`no free range of ${count} ports`);
}

/** One free port (outside every range handed out). */
export function freePort(): number {
  return portRange(1)[0];
}
