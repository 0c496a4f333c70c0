/**
 * Reading the files the launcher keeps (the state file), and setting a damaged one aside:
 * the reading half of what `atomic_file.ts` writes.
 *
 * @module
 */

/** Reads kept files and renames them. */
export interface KeptFiles {
  /**
   * Reads a whole file.
   *
   * @param path the file
   * @returns its bytes, or undefined when it does not exist
   * @throws {Error} when it exists but cannot be read
   */
  read(path: string): Promise<Uint8Array | undefined>;
  /**
   * Renames a file.
   *
   * @param from its path
   * @param to its new path, in the same folder
   */
  rename(from: string, to: string): Promise<void>;
}

/**
 * The real kept files, on the file system.
 *
 * @returns the {@linkcode KeptFiles}
 */
export function keptFiles(): KeptFiles {
  return {
    async read(path) {
      try {
        return await Deno.readFile(path);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return undefined;
        throw err;
      }
    },
    rename: (from, to) => Deno.rename(from, to),
  };
}
