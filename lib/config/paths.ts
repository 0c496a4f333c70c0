/**
 * Filesystem checks of a parsed config, run before the launcher starts so that a wrong path
 * is reported at its key instead of failing the first session: the log folder is created if
 * needed (mode 0700) and must be writable, the folders of the map file and of the state file
 * must exist and be writable, and the static content folder must exist. The folders of the
 * logs, the map file and the state file must also be safe from other local users
 * ({@linkcode folderProblem}); once they are, the config names them by their real paths.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { findNodeAtLocation, parseTree } from "jsonc-parser";
import type { ConfigProblem } from "./problems.ts";
import type { LauncherConfig } from "./types.ts";
import { LineIndex, withoutBom } from "./source.ts";
import { folderProblem } from "../os/mod.ts";

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
  /** The user the launcher runs as, whose folders (and root's) are trusted. @default Deno.uid() */
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
  const locate = keyLocator(text, options.file ?? config.file, config.format);
  const uid = options.uid ?? Deno.uid() ?? 0;
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

/** The highest missing folder of `folder`'s path (the first --check would make), if any. */
async function missingFolder(folder: string): Promise<string | undefined> {
  let missing: string | undefined;
  for (let at = folder; !(await statOrUndefined(at)); at = dirname(at)) {
    missing = at;
    if (dirname(at) === at) break;
  }
  return missing;
}

/** Whether a missing folder could be made: its parent is writable and safe. */
async function creatableProblem(missing: string, uid: number): Promise<string | undefined> {
  const parent = dirname(missing);
  const problem = await checkFolder(parent) ?? await probeWrite(parent) ??
    await safetyProblem(parent, uid, false);
  return problem && `it does not exist, and its folder "${parent}" ${problem}`;
}

function isWithin(path: string, folder: string): boolean {
  return path.startsWith(folder.endsWith("/") ? folder : `${folder}/`);
}

async function useRealPaths(config: LauncherConfig): Promise<void> {
  const inRealFolder = async (file: string) =>
    join(await Deno.realPath(dirname(file)), basename(file));
  config.logDir = await Deno.realPath(config.logDir);
  if (config.mapFile) config.mapFile = await inRealFolder(config.mapFile);
  config.stateFile = await inRealFolder(config.stateFile);
}

async function safetyProblem(
  folder: string,
  uid: number,
  isPrivate: boolean,
): Promise<string | undefined> {
  try {
    return await folderProblem(folder, { uid, private: isPrivate });
  } catch (err) {
    return `is unusable (${fsReason(err)})`;
  }
}

type Locate = (setting: PathSetting, message: string) => ConfigProblem;

/** Locates the key of a path setting; a defaulted one is reported at the top-level object. */
function keyLocator(text: string, file: string, format: LauncherConfig["format"]): Locate {
  const clean = withoutBom(text);
  const root = parseTree(clean, [], { allowTrailingComma: true });
  const lines = new LineIndex(clean);
  return (setting, message) => {
    const keys = PATH_KEYS[format][setting];
    const path = keys.join(".");
    const keyNode = root && findNodeAtLocation(root, keys)?.parent?.children?.[0];
    const at = lines.locate(keyNode?.offset ?? root?.offset ?? 0);
    const note = keyNode ? "" : ` (the default; set "${path}" to choose another)`;
    return { file, ...at, severity: "error", path, message: message + note };
  };
}

async function ensureWritableFolder(folder: string): Promise<string | undefined> {
  try {
    // Private from the start: the names of the logs are session ids.
    await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
  } catch (err) {
    return `cannot create it (${fsReason(err)})`;
  }
  return await probeWrite(folder);
}

/**
 * Checks that a file the launcher rewrites can be created or replaced in its folder, and that
 * no other user can replace it (its folder may be readable: Apache reads the map file).
 */
async function checkFileFolder(file: string, uid: number): Promise<string | undefined> {
  const folder = dirname(file);
  const missing = await checkFolder(folder);
  if (missing) return `its folder "${folder}" ${missing}`;
  if ((await statOrUndefined(file))?.isDirectory) return "it is a folder";
  const problem = await probeWrite(folder) ?? await safetyProblem(folder, uid, false);
  return problem && `its folder "${folder}": ${problem}`;
}

async function checkFolder(folder: string): Promise<string | undefined> {
  try {
    const info = await Deno.stat(folder);
    return info.isDirectory ? undefined : "is not a folder";
  } catch (err) {
    return err instanceof Deno.errors.NotFound
      ? "does not exist"
      : `is unusable (${fsReason(err)})`;
  }
}

async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch {
    return undefined;
  }
}

/** Writing a file is the only reliable test: permissions, ACLs, read-only mounts, quotas. */
async function probeWrite(folder: string): Promise<string | undefined> {
  try {
    const probe = await Deno.makeTempFile({ dir: folder, prefix: ".pvw-launcher-probe-" });
    await Deno.remove(probe);
  } catch (err) {
    return `cannot write in it (${fsReason(err)})`;
  }
  return undefined;
}

function fsReason(err: unknown): string {
  if (err instanceof Deno.errors.NotADirectory) return "a part of the path is a file";
  if (err instanceof Deno.errors.AlreadyExists) return "a file of that name exists";
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.NotFound) return "no such file or folder";
  return err instanceof Error ? err.message : String(err);
}
