import assert from "node:assert/strict";
import {
  type ServeFunction,
  ServerKeeper,
  type ServerKeeperOptions,
} from "../../lib/http/server_keeper.ts";

/** A server whose accept loop the test ends, as EMFILE ends Deno's. */
class FakeServer {
  readonly finished: Promise<void>;
  shutdowns = 0;
  #end!: (err?: Error) => void;
  constructor(readonly addr: Deno.NetAddr) {
    this.finished = new Promise((resolve, reject) => {
      this.#end = (err) => err ? reject(err) : resolve();
    });
  }
  fail(message: string): void {
    this.#end(new Error(message));
  }
  shutdown(): Promise<void> {
    this.shutdowns++;
    this.#end();
    return Promise.resolve();
  }
}

/** `serve` that starts fake servers, or throws while `refuse` says why; each call is noted. */
function fakeServe() {
  const calls: { hostname: string; port: number }[] = [];
  const servers: FakeServer[] = [];
  const state = { refuse: undefined as string | undefined };
  const waiters: (() => void)[] = [];
  const serve = ((options) => {
    calls.push({ hostname: options.hostname, port: options.port });
    for (const w of waiters.splice(0)) w();
    if (state.refuse) throw new Error(state.refuse);
    const server = new FakeServer({
      transport: "tcp",
      hostname: options.hostname,
      port: options.port || 4321,
    });
    servers.push(server);
    return server as unknown as Deno.HttpServer<Deno.NetAddr>;
  }) as ServeFunction;
  const called = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => calls.length >= n ? resolve() : waiters.push(check);
      check();
    });
  return { serve, calls, servers, state, called };
}

/** A keeper of the launcher's listener on 127.0.0.1, serving with the fake's `serve`. */
function keeperOptions(
  fake: ReturnType<typeof fakeServe>,
  options: Omit<ServerKeeperOptions, "serve" | "name" | "hostname">,
): ServerKeeperOptions {
  return { serve: fake.serve, name: "the launcher", hostname: "127.0.0.1", ...options };
}

Deno.test("ServerKeeper listens again on the same port after the accept loop dies, backing off while it cannot", async () => {
  const fake = fakeServe();
  const keeper = new ServerKeeper(
    keeperOptions(fake, { port: 0, firstBackoffMs: 1, maxBackoffMs: 4 }),
  );
  const addr = keeper.start(() => new Response());
  assert.equal(addr.port, 4321, "port 0 picked a port");
  assert.deepEqual(keeper.status, { accepting: true });

  fake.state.refuse = "Too many open files (os error 24)";
  fake.servers[0].fail("Too many open files (os error 24)");
  await fake.called(4); // the start, then three refused attempts
  const down = keeper.status;
  assert.equal(down.accepting, false);
  assert.match(down.error!, /Too many open files/);
  assert(down.since! <= Date.now());

  fake.state.refuse = undefined;
  const attempts = fake.calls.length;
  await fake.called(attempts + 1);
  assert.deepEqual(keeper.status, { accepting: true });
  assert(fake.calls.every((c) => c.hostname === "127.0.0.1"));
  assert.deepEqual(fake.calls.slice(1).map((c) => c.port), fake.calls.slice(1).map(() => 4321));

  await keeper.shutdown();
  assert.deepEqual(fake.servers.map((s) => s.shutdowns), [1, 1], "the dead server too");
});

Deno.test("ServerKeeper does not listen again once shut down", async () => {
  const fake = fakeServe();
  const keeper = new ServerKeeper(keeperOptions(fake, { port: 8080, firstBackoffMs: 1 }));
  keeper.start(() => new Response());
  await keeper.shutdown();
  fake.servers[0].fail("late");
  await fake.servers[0].finished.catch(() => {});
  await Promise.resolve();
  // Nothing was noticed nor scheduled (a pending retry timer would fail the op sanitizer).
  assert.deepEqual(keeper.status, { accepting: true });
  assert.equal(fake.calls.length, 1);
});

Deno.test("ServerKeeper.start() throws what serve throws (the address is taken)", () => {
  const fake = fakeServe();
  fake.state.refuse = "Address already in use";
  const keeper = new ServerKeeper(keeperOptions(fake, { port: 8080 }));
  assert.throws(() => keeper.start(() => new Response()), /Address already in use/);
});

Deno.test("ServerKeeper forgets a dead server, without closing its clients, when the next one dies: a listener that dies again and again holds two servers", async () => {
  const fake = fakeServe();
  const keeper = new ServerKeeper(keeperOptions(fake, { port: 0, firstBackoffMs: 1 }));
  keeper.start(() => new Response());
  for (let i = 0; i < 5; i++) {
    fake.servers[i].fail("Too many open files (os error 24)");
    await fake.called(i + 2);
  }
  assert.equal(keeper.held, 2, "the live server, and the last dead one, whose clients it serves");
  assert.deepEqual(fake.servers.map((s) => s.shutdowns), [0, 0, 0, 0, 0, 0], "no client cut");
  await keeper.shutdown();
  assert.deepEqual(fake.servers.map((s) => s.shutdowns), [0, 0, 0, 0, 1, 1]);
});
