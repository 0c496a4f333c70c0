import assert from "node:assert/strict";
import { ipv6Text, Libc } from "../../lib/os/libc.ts";
import { peerKey, processSocketTable } from "../../lib/os/socket_table.ts";

/** A listener of this process with `count` clients connected to it, all of them accepted. */
async function connected(hostname: string, count: number, from = hostname) {
  const listener = Deno.listen({ hostname, port: 0 });
  const port = listener.addr.port;
  const clients: Deno.TcpConn[] = [];
  const accepted: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) {
    clients.push(await Deno.connect({ hostname: from, port }));
    accepted.push(await listener.accept());
  }
  return {
    port,
    clients,
    accepted,
    close() {
      for (const c of [...clients, ...accepted]) {
        try {
          c.close();
        } catch {
          // closed already
        }
      }
      listener.close();
    },
  };
}

function ipv6Loopback(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("the process socket table lists the connections accepted on a port, peers as Deno names them", async (t) => {
  const libc = Libc.open();
  assert(libc, "the C library loads on Linux");
  const table = processSocketTable(libc);
  try {
    const cases: [listen: string, connect: string][] = [
      ["127.0.0.1", "127.0.0.1"],
      ...ipv6Loopback() ? [["::1", "::1"], ["::", "127.0.0.1"]] as [string, string][] : [],
    ];
    for (const [hostname, client] of cases) {
      await t.step(`listening on ${hostname}, a client from ${client}`, async () => {
        const net = await connected(hostname, 3, client);
        const other = await connected(hostname, 1, client);
        try {
          const { connections, descriptors } = table.scan(new Set([net.port]));
          assert.deepEqual(
            connections.map((c) => c.peer).sort(),
            net.accepted.map((c) => peerKey(c.remoteAddr as Deno.NetAddr)).sort(),
            "the three accepted connections: not the listener, not the clients' ends",
          );
          assert(connections.every((c) => c.localPort === net.port && /^\d+$/.test(c.id)));
          assert(descriptors >= 10 && descriptors === table.open());
        } finally {
          net.close();
          other.close();
        }
      });
    }
  } finally {
    libc.close();
  }
});

Deno.test("shutting a listed connection down ends it for its peer; a stale entry is left alone", async () => {
  const libc = Libc.open()!;
  const table = processSocketTable(libc);
  const net = await connected("127.0.0.1", 2);
  try {
    const [first, second] = table.scan(new Set([net.port])).connections;
    assert(table.shutdown(first));
    const client = net.clients.find((c) => peerKey(c.localAddr as Deno.NetAddr) === first.peer)!;
    assert.equal(await client.read(new Uint8Array(16)), null, "the peer reads the end");
    // An entry whose descriptor now holds another socket is not shut down.
    assert.equal(table.shutdown({ ...second, id: "1" }), false);
    const other = net.clients.find((c) => c !== client)!;
    await other.write(new Uint8Array([1]));
    const accepted = net.accepted.find((c) =>
      peerKey(c.remoteAddr as Deno.NetAddr) === second.peer
    )!;
    assert.equal(await accepted.read(new Uint8Array(16)), 1, "still open");
  } finally {
    net.close();
    libc.close();
  }
});

Deno.test("Libc reads the descriptor limit", () => {
  const libc = Libc.open()!;
  try {
    const { soft, hard } = libc.descriptorLimit();
    const proc = Deno.readTextFileSync("/proc/self/limits").match(
      /Max open files\s+(\d+)\s+(\d+)/,
    )!;
    assert.deepEqual([soft, hard], [Number(proc[1]), Number(proc[2])]);
  } finally {
    libc.close();
  }
});

Deno.test("ipv6Text() writes IPv6 addresses as Deno does (RFC 5952)", () => {
  const bytes = (words: number[]) => new Uint8Array(words.flatMap((w) => [w >> 8, w & 0xff]));
  const cases: [number[], string][] = [
    [[0, 0, 0, 0, 0, 0, 0, 1], "::1"],
    [[0, 0, 0, 0, 0, 0, 0, 0], "::"],
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], "2001:db8::1"],
    [[0x2001, 0xdb8, 0, 1, 0, 0, 0, 1], "2001:db8:0:1::1"],
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], "2001:db8::1:0:0:1"],
    [[0x2001, 0xdb8, 1, 2, 3, 4, 5, 6], "2001:db8:1:2:3:4:5:6"],
    [[0x2001, 0, 1, 2, 3, 4, 5, 0], "2001:0:1:2:3:4:5:0"],
    [[0xfe80, 0, 0, 0, 0xabcd, 0xef, 0, 0], "fe80::abcd:ef:0:0"],
    [[0, 0, 0, 0, 0, 0xffff, 0x7f00, 1], "::ffff:127.0.0.1"],
  ];
  for (const [words, text] of cases) {
    assert.equal(ipv6Text(bytes(words)), text);
    if (!text.includes(".")) assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname);
  }
  // Random addresses agree with the URL parser's canonical form, which follows the same rules.
  for (let i = 0; i < 500; i++) {
    const words = Array.from(
      { length: 8 },
      () => Math.random() < 0.5 ? 0 : Math.floor(Math.random() * 65536),
    );
    if (words.slice(0, 6).join() === "0,0,0,0,0,65535") continue;
    const text = ipv6Text(bytes(words));
    assert.equal(
      `[${text}]`,
      new URL(`http://[${words.map((w) => w.toString(16)).join(":")}]/`).hostname,
    );
  }
});
