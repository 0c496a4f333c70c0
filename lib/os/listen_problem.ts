/**
 * Why the launcher could not listen on an address, in words an admin can act on.
 *
 * @module
 */

/**
 * Says why a listener could not be opened, and what to do.
 *
 * @param err what listening threw
 * @returns the error's message, with the likely cause and remedy
 */
export function listenProblem(err: unknown): string {
  const { message } = err as Error;
  if (err instanceof Deno.errors.AddrInUse) {
    return `${message}: another program listens there (choose another port with --port)`;
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return `${message}: ports below 1024 need privileges (use a higher port behind a proxy)`;
  }
  if (err instanceof Deno.errors.AddrNotAvailable) {
    return `${message}: this machine has no such address (check the host, or use --host)`;
  }
  return message;
}
