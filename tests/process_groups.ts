/**
 * Processes for the tests of what finds and stops session processes: a shell in a process
 * group of its own, its output appended to a file as a session's is to its log.
 *
 * @module
 */

/**
 * Starts `sh -c script` in a process group of its own (its pid is the group's id), its
 * stdout and stderr appended to `file`.
 *
 * @param script the shell script
 * @param file the file its output goes to (created empty)
 * @param env more environment variables
 * @returns the process
 */
export function startGroup(
  script: string,
  file: string,
  env: Record<string, string> = {},
): Deno.ChildProcess {
  Deno.writeTextFileSync(file, "");
  // Deno.Command cannot hand a file to a child: the shell opens it itself.
  return new Deno.Command("setsid", {
    args: ["sh", "-c", `exec >>'${file}' 2>&1; ${script}`],
    env,
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/**
 * Waits until a file holds a whole line, woken by file events.
 *
 * @param file the file
 * @returns its text, trimmed
 */
export async function lineIn(file: string): Promise<string> {
  const watcher = Deno.watchFs(file);
  try {
    const events = watcher[Symbol.asyncIterator]();
    for (;;) {
      const text = await Deno.readTextFile(file);
      if (text.includes("\n")) return text.trim();
      await events.next();
    }
  } finally {
    watcher.close();
  }
}

/**
 * Kills a process group, if it still runs.
 *
 * @param pgid the group's id
 */
export function killGroup(pgid: number): void {
  try {
    Deno.kill(-pgid, "SIGKILL");
  } catch {
    // gone
  }
}
