/**
 * Checks the certificate and key a config names, with the other paths, before the launcher
 * starts (and at `--check`): both files can be read, the chain parses and is in order, the key
 * matches it and only the launcher's user may read it, and the certificate is valid now. A
 * problem is reported at the key that named the file at fault; what the certificate holds
 * (names, validity) is returned for `--check` to show.
 *
 * @module
 */

import type { ConfigProblem } from "./problems.ts";
import type { LauncherConfig } from "./types.ts";
import { keyLocator } from "./source.ts";
import {
  type CertificateInfo,
  EncryptedKeyError,
  KeyFileAccessError,
  KeyMismatchError,
  type LoadedPair,
  loadPair,
  PrivateKeyFormatError,
  readPemFile,
  TlsFileError,
  TlsPairError,
} from "../tls/mod.ts";
import { currentUid } from "../os/mod.ts";

/** What {@linkcode checkTlsFiles} found. */
export interface TlsFilesCheck {
  /** An error at the key of the file at fault, and the certificate's warnings. */
  problems: ConfigProblem[];
  /** What the certificate holds, when the pair can be served. */
  certificate?: CertificateInfo;
  /** The pair as read, when it can be served: what the launcher then serves. */
  pair?: LoadedPair;
}

/** Options of {@linkcode checkTlsFiles}. */
export interface TlsFilesOptions {
  /** The file name that problems name. @default the config's absolute `file` */
  file?: string;
  /** The user the launcher runs as, who alone may read the key. @default its own */
  uid?: number;
  /** The time validity is checked against. @default now */
  now?: Date;
}

/** Where each format may keep the certificate and the key, the flat keys first. */
const KEYS: Record<LauncherConfig["format"], Record<"cert" | "key", string[][]>> = {
  spec: { cert: [["tls_cert"], ["tls", "cert"]], key: [["tls_key"], ["tls", "key"]] },
  wslink: {
    cert: [["configuration", "tls_cert"], ["configuration", "tls", "cert"]],
    key: [["configuration", "tls_key"], ["configuration", "tls", "key"]],
  },
};

/**
 * Reads and checks the certificate chain and private key of a config that has them.
 *
 * @param config the parsed config
 * @param text the text it was parsed from, to locate the keys
 * @param options how to name the file, the launcher's user, and the time
 * @returns the problems found and, when the pair can be served, what the certificate holds
 */
export async function checkTlsFiles(
  config: LauncherConfig,
  text: string,
  options: TlsFilesOptions = {},
): Promise<TlsFilesCheck> {
  if (!config.tls) return { problems: [] };
  const locate = tlsLocator(text, options.file ?? config.file, config.format);
  const uid = options.uid ?? currentUid();
  try {
    const pair = await loadPair(config.tls, {
      now: options.now,
      reader: { read: readPemFile, uid: () => uid },
    });
    const problems = pair.info.warnings.map((w) => locate("cert", "warning", w));
    return { problems, certificate: pair.info, pair };
  } catch (err) {
    if (!(err instanceof TlsPairError)) throw err;
    return { problems: [locate(culprit(err, config.tls), "error", err.message)] };
  }
}

/** Which file a problem is the fault of: the key's problems are the key's, the rest the chain's. */
function culprit(err: TlsPairError, files: { cert: string; key: string }): "cert" | "key" {
  if (err instanceof TlsFileError) return err.file === files.cert ? "cert" : "key";
  const ofKey = [EncryptedKeyError, PrivateKeyFormatError, KeyMismatchError, KeyFileAccessError];
  return ofKey.some((kind) => err instanceof kind) ? "key" : "cert";
}

type Locate = (
  which: "cert" | "key",
  severity: ConfigProblem["severity"],
  message: string,
) => ConfigProblem;

function tlsLocator(text: string, file: string, format: LauncherConfig["format"]): Locate {
  const locate = keyLocator(text, file);
  return (which, severity, message) => locate(KEYS[format][which], severity, message);
}
