/**
 * What `--check` says of the certificate a config names: the names it serves, who issued it,
 * and how long it has left.
 *
 * @module
 */

import type { CertificateInfo } from "./certificate.ts";
import { expiryOf } from "./expiry.ts";

/**
 * Describes a certificate in a few lines.
 *
 * @param info what the certificate holds
 * @param now the time its expiry is measured from
 * @returns one line per fact; the expiry line starts with `warning:` within the warning period
 * @example
 * ```ts ignore
 * for (const line of describeCertificate(loaded.certificate, new Date())) console.log(line);
 * // TLS names: localhost, 127.0.0.1
 * // TLS issuer: CN=R11, O=Let's Encrypt, C=US (chain of 2)
 * // TLS expiry: the TLS certificate for localhost, 127.0.0.1 is valid until ... (61 days left)
 * ```
 */
export function describeCertificate(info: CertificateInfo, now: Date): string[] {
  const expiry = expiryOf(info, now);
  return [
    `TLS names: ${info.names.join(", ")}`,
    `TLS issuer: ${info.issuer.split("\n").reverse().join(", ")} (chain of ${info.chainLength})`,
    `TLS key: ${info.keyType}, serial ${info.serial}`,
    `${expiry.warn ? "warning: " : ""}TLS expiry: ${expiry.message}`,
  ];
}
