/**
 * Where the launcher keeps its own files when the config names no folder: the state folder
 * of the systemd and XDG conventions, never a shared folder such as `/tmp`, where another
 * local user could have made the folder first.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";

/** The name of the launcher's folder under a state root. */
const NAME = "pvw-launcher";

/** The system-wide state folder, for a launcher run as root outside systemd. */
const SYSTEM_STATE_FOLDER = `/var/lib/${NAME}`;

/**
 * The launcher's state folder, by the first rule that applies:
 *
 * 1. `$STATE_DIRECTORY` (set by systemd's `StateDirectory=`; its first folder if several);
 * 2. `/var/lib/pvw-launcher` for root;
 * 3. `$XDG_STATE_HOME/pvw-launcher`;
 * 4. `$HOME/.local/state/pvw-launcher` (the XDG default).
 *
 * Relative values are ignored, as the XDG specification asks.
 *
 * @param env the launcher's environment
 * @param uid the launcher's user id
 * @returns the folder, or undefined when no rule applies (no usable `HOME`)
 * @example
 * ```ts
 * import { defaultStateFolder } from "./state_folder.ts";
 *
 * defaultStateFolder({ HOME: "/home/ana" }, 1000); // "/home/ana/.local/state/pvw-launcher"
 * defaultStateFolder({ HOME: "/root" }, 0); // "/var/lib/pvw-launcher"
 * ```
 */
export function defaultStateFolder(
  env: Readonly<Record<string, string | undefined>>,
  uid: number,
): string | undefined {
  const absolute = (path: string | undefined) =>
    path !== undefined && isAbsolute(path) ? path : undefined;
  const systemd = absolute(env.STATE_DIRECTORY?.split(":")[0]);
  if (systemd) return systemd;
  if (uid === 0) return SYSTEM_STATE_FOLDER;
  const xdg = absolute(env.XDG_STATE_HOME);
  if (xdg) return join(xdg, NAME);
  const home = absolute(env.HOME);
  return home && join(home, ".local", "state", NAME);
}

/**
 * The default folder of the session logs: `logs` in the state folder.
 *
 * @param stateFolder the launcher's state folder, if it has one
 * @returns the folder, or undefined without a state folder
 */
export function defaultLogFolder(stateFolder: string | undefined): string | undefined {
  return stateFolder && join(stateFolder, "logs");
}
