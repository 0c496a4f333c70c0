/**
 * The front door and its stand-in launcher in a process of their own, for tests that need to
 * limit its descriptors: `deno run -A front_door_child.ts <cert> <key>`. It prints its port as
 * a JSON line, then answers each line on stdin with its descriptor count and the front door's
 * counts, and stops at end of input.
 *
 * @module
 */

import { FrontDoorRig, openFds } from "./support.ts";

const [certFile, keyFile] = Deno.args;
const pair = {
  cert: await Deno.readTextFile(certFile),
  key: await Deno.readTextFile(keyFile),
  certFile,
  keyFile,
  serial: "",
};
const rig = await FrontDoorRig.start(pair, { handshakeTimeoutMs: 60_000 });
console.log(JSON.stringify({ port: rig.port }));
for await (const _ of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  console.log(JSON.stringify({ fds: openFds(), ...rig.terminator.counts }));
}
await rig.stop();
