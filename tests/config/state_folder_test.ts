import assert from "node:assert/strict";
import { defaultLogFolder, defaultStateFolder } from "../../lib/config/state_folder.ts";

Deno.test("defaultStateFolder() follows systemd, then root's /var/lib, then XDG; never /tmp", async (t) => {
  const cases: [string, Record<string, string>, number, string | undefined][] = [
    [
      "systemd's StateDirectory= wins, its first folder",
      { STATE_DIRECTORY: "/var/lib/pvw-launcher:/var/lib/other", HOME: "/root" },
      0,
      "/var/lib/pvw-launcher",
    ],
    [
      "root outside systemd",
      { HOME: "/root", XDG_STATE_HOME: "/root/st" },
      0,
      "/var/lib/pvw-launcher",
    ],
    [
      "a user's XDG_STATE_HOME",
      { HOME: "/home/ana", XDG_STATE_HOME: "/home/ana/.st" },
      1000,
      "/home/ana/.st/pvw-launcher",
    ],
    [
      "a user's home, as XDG defaults it",
      { HOME: "/home/ana" },
      1000,
      "/home/ana/.local/state/pvw-launcher",
    ],
    [
      "relative values are ignored",
      { STATE_DIRECTORY: "state", XDG_STATE_HOME: "st", HOME: "/home/ana" },
      1000,
      "/home/ana/.local/state/pvw-launcher",
    ],
    ["no home at all", { HOME: "" }, 1000, undefined],
  ];
  for (const [name, env, uid, expected] of cases) {
    await t.step(name, () => assert.equal(defaultStateFolder(env, uid), expected));
  }
});

Deno.test("defaultLogFolder() is logs/ in the state folder", () => {
  assert.equal(defaultLogFolder("/var/lib/pvw-launcher"), "/var/lib/pvw-launcher/logs");
  assert.equal(defaultLogFolder(undefined), undefined);
});
