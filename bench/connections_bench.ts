/**
 * What the connection guard costs: one sweep of the process's sockets (it runs once a second
 * by default) with 1,000 accepted connections open, each an idle keep-alive client, as with
 * 1,000 browser tabs. The process holds 2,000 sockets: both ends of each connection.
 *
 * Run with `deno bench --frozen --allow-all bench/connections_bench.ts`.
 *
 * @module
 */

import { ConnectionGuard } from "../lib/http/mod.ts";
import { Libc, processSocketTable } from "../lib/os/mod.ts";

const libc = Libc.open()!;
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const conns: Deno.Conn[] = [];
for (let i = 0; i < 1000; i++) {
  conns.push(await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }));
  conns.push(await listener.accept());
}
const table = processSocketTable(libc);
const guard = new ConnectionGuard({
  table,
  headerTimeoutMs: 3_600_000,
  keepAliveTimeoutMs: 3_600_000,
});
guard.watch(listener.addr.port);

Deno.bench("sweep with 1,000 accepted connections (2,000 sockets)", () => {
  guard.sweep();
});

Deno.bench("scan only, 1,000 accepted connections", () => {
  table.scan(new Set([listener.addr.port]));
});

globalThis.addEventListener("unload", () => {
  for (const c of conns) c.close();
  listener.close();
  libc.close();
});
