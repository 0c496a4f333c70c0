/**
 * Filesystem checks of a parsed config, run before the launcher starts so that a wrong path
 * is reported at its key instead of failing the first session: the log folder is created if
 * needed (mode 0700) and must be writable, the folders of the map file and of the state file
 * must exist and be writable, and the static content folder must exist. The folders of the
 * logs, the map file and the state file must also be safe from other local users; once they
 * are, the config names them by their real paths. The checks themselves are in `os/`; this
 * module says which path each applies to, and at which key a problem is reported.
 *
 * @module
 */

import { dirname } from "node:path";
import type { ConfigProblem } from "./problems.ts";
import type { LauncherConfig } from "./types.ts";
import { keyLocator } from "./source.ts";
import {
  checkFileFolder,
  checkFolder,
  creatableProblem,
  currentUid,
  ensureWritableFolder,
  inRealFolder,
  missingFolder,
  probeWrite,
  realFolder,
  safetyProblem,
} from "../os/mod.ts";

/** The config settings that name a path on this machine. */
export type PathSetting = "logDir" | "mapFile" | "stateFile" | "content";

/** Where each format keeps each path setting. */
const PATH_KEYS: Record<LauncherConfig["format"], Record<PathSetting, string[]>> = {
  spec: { logDir: ["log"], mapFile: ["map_file"], stateFile: ["state_file"], content: ["content"] },
  wslink: {
    logDir: ["configuration", "log_dir"],
    mapFile: ["configuration", "proxy_file"],
    stateFile: ["configuration", "state_file"],
    content: ["configuration", "content"],
  },
};

/** Options of {@linkcode checkPaths}. */
export interface CheckPathsOptions {
  /** The file name that problems name. @default the config's absolute `file` */
  file?: string;
  /** The user the launcher runs as, whose folders (and root's) are trusted. @default its own */
  uid?: number;
  /**
   * Whether a missing log folder is made now. `false` (for `--check`, which changes nothing)
   * checks instead that it could be made: its nearest existing folder is writable and safe.
   * @default true
   */
  create?: boolean;
}

/**
 * Checks the paths of a config, creating the log folder (and its parents) if it is missing
 * (unless `options.create` is false).
 * The log folder is checked first, so a map file or state file inside it works on a fresh
 * machine. A state file in a folder already reported unusable is not reported again. When
 * all is well, the log folder, the map file and the state file of `config` are replaced by
 * their real paths, so that no symbolic link changed later can move them.
 *
 * @param config the parsed config
 * @param text the text it was parsed from, to locate the keys that named the paths
 * @param options how to name the file, and the launcher's user
 * @returns one error per unusable path, at the key that named it; empty when all is well
 */
export async function checkPaths(
  config: LauncherConfig,
  text: string,
  options: CheckPathsOptions = {},
): Promise<ConfigProblem[]> {
  const locate = pathLocator(text, options.file ?? config.file, config.format);
  const uid = options.uid ?? currentUid();
  const problems: ConfigProblem[] = [];
  const create = options.create ?? true;
  const toCreate = create ? undefined : await missingFolder(config.logDir);
  const logProblem = toCreate
    ? await creatableProblem(toCreate, uid)
    : (create ? await ensureWritableFolder(config.logDir) : await probeWrite(config.logDir)) ??
      await safetyProblem(config.logDir, uid, true);
  if (logProblem) {
    problems.push(locate("logDir", `cannot use "${config.logDir}" for logs: ${logProblem}`));
  }
  // A file in the log folder that --check did not make is checked with that folder.
  const willExist = (file: string) => toCreate !== undefined && isWithin(file, toCreate);
  const mapProblem = config.mapFile && !willExist(config.mapFile) &&
    await checkFileFolder(config.mapFile, uid);
  if (mapProblem) {
    problems.push(locate("mapFile", `cannot keep the map file "${config.mapFile}": ${mapProblem}`));
  }
  const mapFolder = config.mapFile && dirname(config.mapFile);
  const reported = [logProblem && config.logDir, mapProblem && mapFolder];
  const stateProblem = !reported.includes(dirname(config.stateFile)) &&
    !willExist(config.stateFile) && await checkFileFolder(config.stateFile, uid);
  if (stateProblem) {
    const message = `cannot keep the state file "${config.stateFile}": ${stateProblem}`;
    problems.push(locate("stateFile", message));
  }
  const contentProblem = config.content && await checkFolder(config.content);
  if (contentProblem) {
    problems.push(locate("content", `cannot serve "${config.content}": ${contentProblem}`));
  }
  if (problems.length === 0 && !toCreate) await useRealPaths(config);
  return problems;
}

function isWithin(path: string, folder: string): boolean {
  return path.startsWith(folder.endsWith("/") ? folder : `${folder}/`);
}

async function useRealPaths(config: LauncherConfig): Promise<void> {
  config.logDir = await realFolder(config.logDir);
  if (config.mapFile) config.mapFile = await inRealFolder(config.mapFile);
  config.stateFile = await inRealFolder(config.stateFile);
}

type Locate = (setting: PathSetting, message: string) => ConfigProblem;

/** Locates the key of a path setting; a defaulted one is reported at the top-level object. */
function pathLocator(text: string, file: string, format: LauncherConfig["format"]): Locate {
  const locate = keyLocator(text, file);
  return (setting, message) => {
    const keys = PATH_KEYS[format][setting];
    const note = ` (the default; set "${keys.join(".")}" to choose another)`;
    return locate([keys], "error", message, note);
  };
}
