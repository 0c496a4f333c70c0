/**
 * Where the bench finds the repository and the programs it runs. A module of its own, with no
 * imports of the bench's other modules, so that any of them can use it without a cycle.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root folder. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** The launcher the bench measures. */
export const PVW_ENTRY: string = join(ROOT, Deno.env.get("PVW_LAUNCHER_ENTRY") ?? "main.ts");

/** The WebSocket echo/stream app of the proxy scenarios. */
export const WS_APP: string = fileURLToPath(new URL("../ws_app.ts", import.meta.url));
