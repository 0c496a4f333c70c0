/**
 * Saves one session with the real StateFile, as the launcher does, to the path given: the
 * program `durability_test.ts` runs under strace.
 */

import { StateFile } from "../../lib/sessions/mod.ts";

const entry = JSON.stringify({ id: "abc", state: "starting" });
await new StateFile(Deno.args[0], () => [entry]).save();
