/**
 * Looking at the files and folders a config names, before the launcher starts: whether each
 * exists, is a folder, can be written (by writing a file: the only reliable test, given
 * permissions, ACLs, read-only mounts and quotas) and is safe from other local users
 * ({@linkcode folderProblem}). Each check answers what is wrong, in words, or undefined.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { folderProblem } from "./folder_safety.ts";

/**
 * The user the launcher runs as.
 *
 * @returns its user id (0 where the system has none)
 */
export function currentUid(): number {
  return Deno.uid() ?? 0;
}

/**
 * Reads a text file.
 *
 * @param path the file
 * @returns its text, or what keeps it from being read
 */
export async function readText(path: string): Promise<{ text: string } | { problem: string }> {
  try {
    return { text: await Deno.readTextFile(path) };
  } catch (err) {
    const problem = err instanceof Deno.errors.NotFound
      ? "the file does not exist"
      : err instanceof Deno.errors.IsADirectory
      ? "it is a folder, not a file"
      : err instanceof Error
      ? err.message
      : String(err);
    return { problem };
  }
}

/**
 * A folder's real path, links resolved.
 *
 * @param folder an existing folder
 * @returns its real path
 */
export function realFolder(folder: string): Promise<string> {
  return Deno.realPath(folder);
}

/**
 * A file's path in the real path of its folder.
 *
 * @param file a file whose folder exists
 * @returns the path, its folder's links resolved
 */
export async function inRealFolder(file: string): Promise<string> {
  return join(await Deno.realPath(dirname(file)), basename(file));
}

/**
 * The highest missing folder of a path: the first that making it would make.
 *
 * @param folder a folder's path
 * @returns that folder, or undefined when the folder exists
 */
export async function missingFolder(folder: string): Promise<string | undefined> {
  let missing: string | undefined;
  for (let at = folder; !(await statOrUndefined(at)); at = dirname(at)) {
    missing = at;
    if (dirname(at) === at) break;
  }
  return missing;
}

/**
 * Whether a missing folder could be made: its parent is writable and safe.
 *
 * @param missing the highest missing folder
 * @param uid the launcher's user
 * @returns what is wrong, or undefined
 */
export async function creatableProblem(missing: string, uid: number): Promise<string | undefined> {
  const parent = dirname(missing);
  const absent = await checkFolder(parent);
  if (absent) return `it does not exist, and its folder "${parent}" ${absent}`;
  const problem = await probeWrite(parent) ?? await safetyProblem(parent, uid, false);
  return problem && `it does not exist, and it cannot be made in "${parent}": ${problem}`;
}

/**
 * Whether a folder is safe from other local users ({@linkcode folderProblem}).
 *
 * @param folder an existing folder
 * @param uid the launcher's user
 * @param isPrivate whether others may have no access at all
 * @returns what is wrong, or undefined
 */
export async function safetyProblem(
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

/**
 * Makes a folder (and its parents) if it is missing, private (mode 0700), and checks that it
 * can be written.
 *
 * @param folder the folder
 * @returns what is wrong, or undefined
 */
export async function ensureWritableFolder(folder: string): Promise<string | undefined> {
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
 *
 * @param file the file
 * @param uid the launcher's user
 * @returns what is wrong, or undefined
 */
export async function checkFileFolder(file: string, uid: number): Promise<string | undefined> {
  const folder = dirname(file);
  const missing = await checkFolder(folder);
  if (missing) return `its folder "${folder}" ${missing}`;
  if ((await statOrUndefined(file))?.isDirectory) return "it is a folder";
  const problem = await probeWrite(folder) ?? await safetyProblem(folder, uid, false);
  return problem && `its folder "${folder}": ${problem}`;
}

/**
 * Checks that a folder exists.
 *
 * @param folder the folder
 * @returns what is wrong, or undefined
 */
export async function checkFolder(folder: string): Promise<string | undefined> {
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

/**
 * Checks that a folder can be written, by writing a file in it and removing it: the only
 * reliable test (permissions, ACLs, read-only mounts, quotas).
 *
 * @param folder an existing folder
 * @returns what is wrong, or undefined
 */
export async function probeWrite(folder: string): Promise<string | undefined> {
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
