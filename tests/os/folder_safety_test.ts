import assert from "node:assert/strict";
import { lchownSync } from "node:fs";
import { join } from "node:path";
import { folderProblem } from "../../lib/os/folder_safety.ts";

const ME = Deno.uid()!;
/** A user that is neither the test's nor root. */
const OTHER = ME === 65534 ? 65533 : 65534;

/**
 * Makes a folder belong to another user: for real as root; otherwise the check is asked on
 * behalf of another user, which sees the test's folders as someone else's.
 */
function foreignOwner(path: string): { uid: number } {
  if (ME === 0) {
    Deno.chownSync(path, OTHER, null);
    return { uid: ME };
  }
  return { uid: OTHER };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pvw-folder-test-" });
  try {
    await fn(await Deno.realPath(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function folder(path: string, mode: number): Promise<string> {
  await Deno.mkdir(path, { recursive: true });
  await Deno.chmod(path, mode);
  return path;
}

Deno.test("folderProblem() accepts the launcher's own private folder under a sticky /tmp-like folder", async () => {
  await withTempDir(async (dir) => {
    const shared = await folder(join(dir, "shared"), 0o1777);
    const logs = await folder(join(shared, "logs"), 0o700);
    assert.equal(await folderProblem(logs, { uid: ME, private: true }), undefined);
  });
});

Deno.test("folderProblem() refuses a folder another local user made first", async (t) => {
  await withTempDir(async (dir) => {
    await t.step("writable by everyone, as a squatter in /tmp leaves it", async () => {
      const logs = await folder(join(dir, "open"), 0o777);
      const problem = await folderProblem(logs, { uid: ME, private: true });
      assert.equal(
        problem,
        `it can be written by other users (mode 0777), who could replace its files; ` +
          `run "chmod go-w ${logs}" or choose another folder`,
      );
    });
    await t.step("writable by its group", async () => {
      const logs = await folder(join(dir, "group"), 0o770);
      assert.match(
        (await folderProblem(logs, { uid: ME }))!,
        /^it can be written by other users \(mode 0770\)/,
      );
    });
    await t.step("owned by another user", async () => {
      const logs = await folder(join(dir, "theirs"), 0o700);
      const rules = foreignOwner(logs);
      assert.match(
        (await folderProblem(logs, { ...rules, private: true }))!,
        new RegExp(
          `^it belongs to user ${ME === 0 ? OTHER : ME}, not to the launcher's user ` +
            `\\(${rules.uid}\\) or root, and that user could replace its files; ` +
            `run "chown ${rules.uid} ${logs}"`,
        ),
      );
    });
  });
});

Deno.test("folderProblem() refuses a folder under one that others can write without a sticky bit", async () => {
  await withTempDir(async (dir) => {
    const open = await folder(join(dir, "open"), 0o777);
    const logs = await folder(join(open, "logs"), 0o700);
    assert.equal(
      await folderProblem(logs, { uid: ME, private: true }),
      `the folder above it, "${open}", can be written by other users (mode 0777, no sticky ` +
        `bit), who could replace its files; run "chmod go-w ${open}" or choose another folder`,
    );
  });
});

Deno.test("folderProblem() wants the log folder private and lets Apache's group read the map folder", async (t) => {
  await withTempDir(async (dir) => {
    await t.step("a log folder others can list is refused: its names are session ids", async () => {
      const logs = await folder(join(dir, "logs"), 0o755);
      assert.equal(
        await folderProblem(logs, { uid: ME, private: true }),
        `other users can open it (mode 0755), and its file names are session ids; ` +
          `run "chmod 700 ${logs}"`,
      );
    });
    await t.step("a map folder of Apache's group, setgid, is fine", async () => {
      const map = await folder(join(dir, "map"), 0o2750);
      assert.equal(await folderProblem(map, { uid: ME }), undefined);
    });
  });
});

Deno.test("folderProblem() refuses a path through a symbolic link another user could change", async () => {
  await withTempDir(async (dir) => {
    const real = await folder(join(dir, "real"), 0o700);
    const link = join(dir, "link");
    await Deno.symlink(real, link);
    assert.equal(await folderProblem(link, { uid: ME, private: true }), undefined, "its own link");
    let rules = { uid: OTHER };
    if (ME === 0) {
      lchownSync(link, OTHER, 0);
      rules = { uid: ME };
    }
    assert.match(
      (await folderProblem(link, { ...rules, private: true }))!,
      new RegExp(`^"${link}" is a symbolic link of user \\d+, who could point it elsewhere`),
    );
  });
});
