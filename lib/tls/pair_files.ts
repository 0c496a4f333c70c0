/**
 * Reads a certificate file and a key file and checks them: both are regular files of
 * reasonable size, the pair is sound ({@linkcode inspectPair}), and only the launcher's user
 * may read the key.
 *
 * Why the key must be owner-only (mode 0600 or 0400, owned by the launcher's user) rather
 * than also group-readable (0640, as Debian's `ssl-cert` group convention has it): whoever
 * reads the key can impersonate the server and read every session's traffic, secrets
 * included, and a group is shared by design (`ssl-cert` holds the mail server, the LDAP
 * server, ...), while the launcher cannot tell who else is in it. A launcher run as its own
 * user gets its own copy of the key instead (a certbot deploy hook:
 * `install -m 600 -o pvw privkey.pem /etc/pvw-launcher/tls.key`).
 *
 * @module
 */

import { type CertificateInfo, inspectPair, type TlsPair } from "./certificate.ts";
import { KeyFileAccessError, TlsFileError } from "./errors.ts";
import { currentUid, readSmallFile } from "../os/mod.ts";

/** The largest certificate or key file read: a real chain is a few KiB. */
export const MAX_PEM_BYTES = 1 << 20;

/** Where the certificate chain and the private key are. */
export interface TlsFiles {
  /** The certificate chain, PEM: the server's certificate first. */
  cert: string;
  /** The private key, PEM, unencrypted. */
  key: string;
}

/** A file's text and who may read it. */
export interface PemFile {
  /** The path it was read from. */
  path: string;
  /** Its content. */
  text: string;
  /** Its owner. */
  uid: number;
  /** Its mode bits (permissions and type). */
  mode: number;
}

/** How the files are read, and as whom: the real ones are the defaults, tests give fakes. */
export interface PemFileReader {
  /**
   * Reads a file.
   *
   * @throws {TlsFileError} it cannot be read, is not a regular file, or is too large
   */
  read(path: string): Promise<PemFile>;
  /** The user the launcher runs as. */
  uid(): number;
}

/** A pair read from its files and checked. */
export interface LoadedPair extends TlsPair {
  /** What the certificate holds. */
  info: CertificateInfo;
  /** Where it was read from. */
  files: TlsFiles;
}

/**
 * Reads both files and checks them.
 *
 * @param files where the chain and the key are
 * @param options the time to check validity against, and how to read files
 * @returns the pair and what it holds
 * @throws {TlsPairError} a subclass naming the first problem
 */
export async function loadPair(
  files: TlsFiles,
  options: { now?: Date; reader?: PemFileReader } = {},
): Promise<LoadedPair> {
  const reader = options.reader ?? systemReader;
  const cert = await reader.read(files.cert);
  const key = await reader.read(files.key);
  checkKeyFile(key, reader.uid());
  const pair = { cert: cert.text, key: key.text };
  const info = inspectPair(pair, { now: options.now, certFile: files.cert, keyFile: files.key });
  return { ...pair, info, files };
}

/**
 * Checks that only the launcher's user may read the key file: it owns it, and neither its
 * group nor others have any permission on it.
 *
 * @param file the key file as read
 * @param launcherUid the user the launcher runs as
 * @throws {KeyFileAccessError} another user owns it, or its mode lets others in
 */
export function checkKeyFile(file: Pick<PemFile, "path" | "uid" | "mode">, launcherUid: number) {
  if (file.uid !== launcherUid || (file.mode & 0o077) !== 0) {
    throw new KeyFileAccessError(file.path, file, launcherUid);
  }
}

/**
 * Reads a PEM file from disk. It is checked to be a regular file before it is opened (a FIFO
 * or a device would block or never end), and its owner and mode are those of the very file
 * read (`fstat` on the open descriptor, symbolic links followed as certbot's `live/` needs).
 *
 * @param path the file
 * @returns its text, owner and mode
 * @throws {TlsFileError} it cannot be read, is not a regular file, or is over {@linkcode MAX_PEM_BYTES}
 */
export async function readPemFile(path: string): Promise<PemFile> {
  try {
    const file = await readSmallFile(path, MAX_PEM_BYTES);
    return { path, ...file };
  } catch (err) {
    const problem = (err as Error).message;
    throw new TlsFileError(
      path,
      /^over \d+ bytes$/.test(problem) ? `${problem}: not a PEM file` : problem,
    );
  }
}

const systemReader: PemFileReader = {
  read: readPemFile,
  uid: currentUid,
};
