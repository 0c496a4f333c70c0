import assert from "node:assert/strict";
import { configure, reset } from "@logtape/logtape";
import type { CertificateInfo, LoadedPair, TlsPair } from "../../lib/tls/mod.ts";
import { CertificateReloader, KeyMismatchError } from "../../lib/tls/mod.ts";

const FILES = { cert: "/etc/pvw/fullchain.pem", key: "/etc/pvw/privkey.pem" };

/** A pair as loadPair would return it, told apart by its serial. */
function pair(serial: string, daysLeft = 60): LoadedPair {
  const info = {
    names: ["viz.example.org"],
    serial,
    notAfter: new Date(Date.UTC(2030, 0, 1) + daysLeft * 86_400_000),
  } as CertificateInfo;
  return { cert: `cert ${serial}`, key: `key ${serial}`, info, files: FILES };
}

/** A listener that records what it is given, and refuses pairs whose cert says so. */
class Target {
  readonly served: string[] = [];
  reload(p: TlsPair): CertificateInfo {
    if (p.cert.includes("refused")) throw new KeyMismatchError(FILES.key);
    this.served.push(p.cert);
    return {} as CertificateInfo;
  }
}

const NOW = () => new Date(Date.UTC(2030, 0, 1));

Deno.test("CertificateReloader.reload() serves the new pair on every listener, or keeps the old one", async (t) => {
  const next: (LoadedPair | Error)[] = [];
  const reloader = new CertificateReloader(pair("A"), {
    now: NOW,
    load: (files) => {
      assert.deepEqual(files, FILES, "the files of the pair in service are read again");
      const item = next.shift()!;
      return item instanceof Error ? Promise.reject(item) : Promise.resolve(item);
    },
  });
  const [launcher, dashboard] = [new Target(), new Target()];
  reloader.serve(launcher);
  reloader.serve(dashboard);

  await t.step("a good pair: both listeners get it, it is the one in service", async () => {
    next.push(pair("B"));
    const { certificate, reloaded } = await reloader.reload();
    assert.equal(reloaded, true);
    assert.equal(certificate.serial, "B");
    assert.equal(reloader.certificate.serial, "B");
    assert.deepEqual([launcher.served, dashboard.served], [["cert B"], ["cert B"]]);
    assert.deepEqual(reloader.counts, { reloads: 1, refused: 0 });
  });
  await t.step("files that cannot be served: refused, B stays", async () => {
    next.push(new KeyMismatchError(FILES.key));
    const { certificate, reloaded } = await reloader.reload();
    assert.equal(reloaded, false);
    assert.equal(certificate.serial, "B");
    assert.equal(reloader.pair.cert, "cert B");
    assert.deepEqual(launcher.served, ["cert B"]);
    assert.deepEqual(reloader.counts, { reloads: 1, refused: 1 });
  });
  await t.step("a pair the listener itself refuses: refused, B stays", async () => {
    next.push({ ...pair("C"), cert: "cert C refused" });
    assert.equal((await reloader.reload()).reloaded, false);
    assert.equal(reloader.certificate.serial, "B");
    assert.deepEqual(reloader.counts, { reloads: 1, refused: 2 });
  });
  await t.step("anything else is not a refusal: it is thrown", async () => {
    next.push(new TypeError("a bug"));
    await assert.rejects(reloader.reload(), TypeError);
    next.push(pair("D"));
    assert.equal((await reloader.reload()).certificate.serial, "D", "later reloads still run");
  });
});

Deno.test("CertificateReloader.reload() runs reloads one after the other, in order", async () => {
  let running = 0;
  let most = 0;
  // Each load, once it has begun, hands over the function that lets it finish.
  const begun = [Promise.withResolvers<() => void>(), Promise.withResolvers<() => void>()];
  let calls = 0;
  const reloader = new CertificateReloader(pair("0"), {
    now: NOW,
    load: async () => {
      const n = ++calls;
      most = Math.max(most, ++running);
      const gate = Promise.withResolvers<void>();
      begun[n - 1].resolve(gate.resolve);
      await gate.promise;
      running--;
      return pair(String(n));
    },
  });
  const first = reloader.reload();
  const second = reloader.reload();
  (await begun[0].promise)();
  (await begun[1].promise)();
  assert.deepEqual(
    [(await first).certificate.serial, (await second).certificate.serial],
    ["1", "2"],
  );
  assert.equal(most, 1);
  assert.equal(reloader.certificate.serial, "2");
});

Deno.test("CertificateReloader.start() logs the expiry, a warning within 14 days, and again each check", async () => {
  const lines: { level: string; message: string }[] = [];
  let heard = () => {};
  await configure({
    sinks: {
      memory: (record) => {
        lines.push({ level: record.level, message: record.message.join("") });
        heard();
      },
    },
    loggers: [{ category: ["pvw-launcher"], lowestLevel: "info", sinks: ["memory"] }],
    reset: true,
  });
  try {
    const soon = new CertificateReloader(pair("S", 10), { now: NOW, checkIntervalMs: 5 });
    const twice = new Promise<void>((resolve) => heard = () => lines.length >= 2 && resolve());
    soon.start();
    await twice;
    soon.close();
    assert.deepEqual(lines.slice(0, 2).map((l) => l.level), ["warning", "warning"]);
    assert.match(
      lines[0].message,
      /viz\.example\.org expires in 10 days .*renew it, then send SIGHUP; serial S, from \/etc\/pvw\/fullchain\.pem$/,
    );

    lines.length = 0;
    // Each look at the expiry reads the clock: three looks after the start are enough.
    let looks = 0;
    const looked = Promise.withResolvers<void>();
    const later = new CertificateReloader(pair("L", 60), {
      now: () => {
        if (++looks === 4) looked.resolve();
        return NOW();
      },
      checkIntervalMs: 5,
    });
    later.start();
    await looked.promise;
    later.close();
    assert.deepEqual(lines.map((l) => l.level), ["info"]);
    assert.match(lines[0].message, /is valid until .* \(60 days left\); serial L/);
  } finally {
    await reset();
  }
});
