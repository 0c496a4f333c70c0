/**
 * Whether a folder is safe for the launcher's files, as OpenSSH's `StrictModes` decides for
 * `~/.ssh`: another local user who can write in the folder, or in any folder above it, could
 * replace the session logs with links to other files, plant a state file naming processes to
 * signal, or read the session ids. So the folder and each one above it must belong to the
 * launcher's user or to root, and none may be writable by group or others, except a folder
 * above with the sticky bit (such as `/tmp`), where no one may rename or remove another user's
 * entries.
 *
 * @module
 */

import { dirname, join } from "node:path";

/** What a folder is checked against. */
export interface FolderRules {
  /** The launcher's user id; its folders and root's are trusted. */
  uid: number;
  /**
   * Whether group and others may have no access at all, as for the log folder, whose file
   * names are the session ids. @default false
   */
  private?: boolean;
}

const octal = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;

/**
 * Says why a folder is unsafe, with the command that makes it safe.
 *
 * @param folder an absolute path of an existing folder
 * @param rules the launcher's user and whether the folder must be private
 * @returns the problem, or undefined when the folder is safe
 * @throws {Deno.errors.NotFound} and other file system errors when the path cannot be read
 * @example
 * ```ts ignore
 * await folderProblem("/tmp/logs", { uid: 1000, private: true });
 * // 'it belongs to user 1001, not to the launcher's user (1000): ...'
 * ```
 */
export async function folderProblem(
  folder: string,
  rules: FolderRules,
): Promise<string | undefined> {
  const trusted = (uid: number | null) => uid === rules.uid || uid === 0;
  // A link that someone else may change would move the folder later, wherever it points now.
  let prefix = "/";
  for (const part of folder.split("/").filter(Boolean)) {
    prefix = join(prefix, part);
    const link = await Deno.lstat(prefix);
    if (link.isSymlink && !trusted(link.uid)) {
      return `"${prefix}" is a symbolic link of user ${link.uid}, who could point it elsewhere; ` +
        "name the folder by a path without it";
    }
  }
  const real = await Deno.realPath(folder);
  for (let path = real;; path = dirname(path)) {
    const problem = entryProblem(path, path === real, await Deno.stat(path), rules, trusted);
    if (problem) return problem;
    if (path === dirname(path)) return undefined;
  }
}

function entryProblem(
  path: string,
  isFolder: boolean,
  info: Deno.FileInfo,
  rules: FolderRules,
  trusted: (uid: number | null) => boolean,
): string | undefined {
  const mode = info.mode ?? 0;
  const who = isFolder ? "it" : `the folder above it, "${path}",`;
  if (!trusted(info.uid)) {
    return `${who} belongs to user ${info.uid}, not to the launcher's user (${rules.uid}) or ` +
      `root, and that user could replace its files; run "chown ${rules.uid} ${path}" or ` +
      "choose another folder";
  }
  const sticky = (mode & 0o1000) !== 0;
  if ((mode & 0o022) !== 0 && (isFolder || !sticky)) {
    return `${who} can be written by other users (mode ${octal(mode)}${
      isFolder ? "" : ", no sticky bit"
    }), who could replace its files; run "chmod go-w ${path}" or choose another folder`;
  }
  if (isFolder && rules.private && (mode & 0o077) !== 0) {
    return `other users can open it (mode ${octal(mode)}), and its file names are session ids; ` +
      `run "chmod 700 ${path}"`;
  }
  return undefined;
}
