/**
 * Runs a launcher where what it does cannot reach the rest of the machine: in a PID namespace
 * and process group of its own (a signal to a wrong process group, even `kill(-1)` or
 * `kill(0)`, reaches only the test's own processes, and all of them die with the namespace),
 * or with a fresh tmpfs over a system folder. Needs root: in the user namespace an ordinary user
 * could make, the system's folders belong to no one the launcher may trust (root's files show as
 * user 65534), and the launcher rightly refuses them. Without root the tests skip on a
 * developer's machine and fail in CI, like the end-to-end tests.
 *
 * @module
 */

const IN_CI = !["", "0", "false"].includes((Deno.env.get("CI") ?? "").toLowerCase());

function works(argv: string[]): boolean {
  try {
    return new Deno.Command(argv[0], { args: argv.slice(1), stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Prefix that runs a command as PID 1 of a new PID namespace with its own `/proc`, in a
 * session and process group of its own: `kill(-1)` reaches only the namespace, but `kill(0)`
 * reaches the caller's process group wherever its members are, and without `setsid` that
 * would be the test runner's.
 */
export const PID_NAMESPACE: string[] = [
  "setsid",
  "unshare",
  "--pid",
  "--fork",
  "--mount-proc",
  "--kill-child",
];

/**
 * Prefix that runs a command in a mount namespace of its own with an empty tmpfs of `size`
 * over `folder`, as on a machine where nothing was ever written there.
 *
 * @param folder an existing folder, such as `/var/lib`
 * @param size the tmpfs size, such as `16m`
 * @param setup shell commands run in the namespace before the command, such as `mkdir`
 */
export function freshTmpfs(folder: string, size = "16m", setup = ""): string[] {
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    `mount -t tmpfs -o size=${size},mode=0755 tmpfs "$0" && ${setup || "true"} && exec "$@"`,
    folder,
  ];
}

const ROOT = Deno.uid() === 0;
const available = ROOT && works([...PID_NAMESPACE, "true"]) &&
  works([...freshTmpfs("/mnt"), "true"]);
if (!available && !IN_CI) {
  console.log(
    `SKIP namespace tests: ${
      ROOT ? "unshare cannot make PID and mount namespaces here" : "they need root"
    }`,
  );
}

/** Whether to ignore the namespace tests (not possible here, and not CI). */
export const NO_NAMESPACES: boolean = !available && !IN_CI;

/**
 * Fails when namespaces cannot be made: called first by each test, it only throws in CI.
 *
 * @throws Error saying so
 */
export function checkNamespaces(): void {
  if (!ROOT) throw new Error("the namespace tests need root");
  if (!available) throw new Error("unshare cannot make PID and mount namespaces here");
}
