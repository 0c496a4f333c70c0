import assert from "node:assert/strict";
import { raiseDescriptorLimit } from "../../lib/os/descriptor_limit.ts";
import type { DescriptorLimit } from "../../lib/os/libc.ts";

Deno.test("raiseDescriptorLimit() raises the soft limit of a real process to its hard limit", async () => {
  // A child whose soft limit is lowered after it started (Deno raises it at start itself,
  // the compiled binary does not), then raised by the function under test.
  const script = `
    import { Libc } from ${JSON.stringify(new URL("../../lib/os/libc.ts", import.meta.url).href)};
    import { raiseDescriptorLimit } from ${
    JSON.stringify(new URL("../../lib/os/descriptor_limit.ts", import.meta.url).href)
  };
    const lower = new Deno.Command("prlimit", { args: ["--pid", String(Deno.pid), "--nofile=100:"] });
    if (!(await lower.output()).success) throw new Error("prlimit failed");
    const libc = Libc.open();
    const result = raiseDescriptorLimit(libc);
    const proc = Deno.readTextFileSync("/proc/self/limits").match(/Max open files\\s+(\\d+)\\s+(\\d+)/);
    console.log(JSON.stringify({ ...result, proc: [Number(proc[1]), Number(proc[2])] }));
    libc.close();
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const result = JSON.parse(new TextDecoder().decode(out.stdout));
  const hard = result.before.hard;
  assert.equal(result.before.soft, 100);
  assert.equal(result.soft, hard);
  assert.deepEqual(result.proc, [hard, hard]);
});

Deno.test("raiseDescriptorLimit() leaves a soft limit that is already the hard one", () => {
  let sets = 0;
  const limit: DescriptorLimit = { soft: 4096, hard: 4096 };
  const result = raiseDescriptorLimit({
    descriptorLimit: () => limit,
    setSoftDescriptorLimit: () => (sets++, true),
  });
  assert.deepEqual(result, { before: limit, soft: 4096 });
  assert.equal(sets, 0);
});
