import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkKeyFile,
  KeyFileAccessError,
  KeyMismatchError,
  loadPair,
  MAX_PEM_BYTES,
  readPemFile,
  TlsFileError,
} from "../../lib/tls/mod.ts";
import { PKI_NEEDS, TestPki } from "./pki.ts";
import { thrown } from "./support.ts";

Deno.test("checkKeyFile() lets only the launcher's user read the key", async (t) => {
  const me = 1000;
  const cases = [
    { mode: 0o100600, uid: me, ok: true },
    { mode: 0o100400, uid: me, ok: true },
    { mode: 0o100640, uid: me, ok: false, says: /mode 640 lets other users read.*chmod 600/ },
    { mode: 0o100604, uid: me, ok: false, says: /mode 604/ },
    { mode: 0o100644, uid: me, ok: false, says: /mode 644/ },
    { mode: 0o100660, uid: me, ok: false, says: /mode 660/ },
    { mode: 0o100610, uid: me, ok: false, says: /mode 610/ }, // group may execute: still a member's
    {
      mode: 0o100600,
      uid: 0,
      ok: false,
      says: /belongs to uid 0, not to the launcher's user \(uid 1000\)/,
    },
  ]; // deno-fmt-ignore
  for (const c of cases) {
    await t.step(`mode ${(c.mode & 0o777).toString(8)}, owner ${c.uid}`, () => {
      const file = { path: "/etc/pvw/tls.key", uid: c.uid, mode: c.mode };
      if (c.ok) return checkKeyFile(file, me);
      const err = thrown(() => checkKeyFile(file, me));
      assert.ok(err instanceof KeyFileAccessError);
      assert.match(err.message, /^\/etc\/pvw\/tls\.key: /);
      assert.match(err.message, c.says!);
      assert.equal(err.uid, c.uid);
      assert.equal(err.mode, c.mode & 0o7777);
      assert.equal(err.launcherUid, me);
    });
  }
});

Deno.test("readPemFile() refuses what is not a small regular file, without blocking", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await t.step("a missing file", async () => {
      const err = await readPemFile(join(dir, "none.pem")).catch((e) => e);
      assert.ok(err instanceof TlsFileError);
      assert.match(err.message, /none\.pem: cannot read it: /);
    });
    await t.step("a folder", async () => {
      const err = await readPemFile(dir).catch((e) => e);
      assert.ok(err instanceof TlsFileError);
      assert.match(err.message, /not a regular file/);
    });
    await t.step("a FIFO (opening it would wait for a writer)", async () => {
      const fifo = join(dir, "fifo");
      const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
      assert.ok(made.success);
      const err = await readPemFile(fifo).catch((e) => e);
      assert.ok(err instanceof TlsFileError);
      assert.match(err.message, /not a regular file/);
    });
    await t.step("a file over the size limit", async () => {
      const big = join(dir, "big.pem");
      await Deno.writeFile(big, new Uint8Array(MAX_PEM_BYTES + 1));
      const err = await readPemFile(big).catch((e) => e);
      assert.ok(err instanceof TlsFileError);
      assert.match(err.message, /over 1048576 bytes/);
    });
    await t.step("through a symbolic link, the target's owner and mode", async () => {
      const target = join(dir, "privkey1.pem");
      await Deno.writeTextFile(target, "text", { mode: 0o600 });
      await Deno.chmod(target, 0o600);
      await Deno.symlink(target, join(dir, "privkey.pem"));
      const file = await readPemFile(join(dir, "privkey.pem"));
      assert.equal(file.text, "text");
      assert.equal(file.mode & 0o777, 0o600);
      assert.equal(file.uid, Deno.uid());
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "loadPair() reads and checks both files",
  ignore: PKI_NEEDS.ignore,
  async fn(t) {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    try {
      const leaf = await pki.leaf();
      await t.step("a sound pair, key mode 0600", async () => {
        const loaded = await loadPair({ cert: leaf.certFile, key: leaf.keyFile });
        assert.equal(loaded.cert, leaf.cert);
        assert.equal(loaded.key, leaf.key);
        assert.equal(loaded.info.serial, leaf.serial);
        assert.deepEqual(loaded.files, { cert: leaf.certFile, key: leaf.keyFile });
      });
      await t.step("the same pair with the key readable by its group", async () => {
        await Deno.chmod(leaf.keyFile, 0o640);
        const err = await loadPair({ cert: leaf.certFile, key: leaf.keyFile }).catch((e) => e);
        assert.ok(err instanceof KeyFileAccessError);
        assert.equal(err.file, leaf.keyFile);
        await Deno.chmod(leaf.keyFile, 0o600);
      });
      await t.step("a key file of another pair names the key file", async () => {
        const other = await pki.key();
        const err = await loadPair({ cert: leaf.certFile, key: other }).catch((e) => e);
        assert.ok(err instanceof KeyMismatchError);
        assert.equal(err.file, other);
      });
      await t.step("the key file's owner is checked against the launcher's user", async () => {
        const reader = { read: readPemFile, uid: () => Deno.uid()! + 1 };
        const err = await loadPair({ cert: leaf.certFile, key: leaf.keyFile }, { reader })
          .catch((e) => e);
        assert.ok(err instanceof KeyFileAccessError);
        assert.match(err.message, /belongs to uid \d+, not to the launcher's user/);
      });
    } finally {
      await pki.remove();
    }
  },
});
