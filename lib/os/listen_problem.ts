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
  // The TLS listener is a `node:net` one: its errors say what they are in `code`.
  const code = (err as { code?: unknown })?.code;
  if (err instanceof Deno.errors.AddrInUse || code === "EADDRINUSE") {
    return `${message}: another program listens there (choose another port with --port)`;
  }
  if (err instanceof Deno.errors.PermissionDenied || code === "EACCES") {
    return `${message}: ports below 1024 need privileges (use a higher port behind a proxy)`;
  }
  if (err instanceof Deno.errors.AddrNotAvailable || code === "EADDRNOTAVAIL") {
    return `${message}: this machine has no such address (check the host, or use --host)`;
  }
  return message;
}
