/**
 * Checks that a certificate chain and a private key (PEM text) can be served, and says what
 * they hold: names, validity, serial. The TLS server itself checks nothing when it is given a
 * new pair (a mismatched key, garbage, an empty file: every later handshake fails instead), so
 * every pair goes through {@linkcode inspectPair} first.
 *
 * `node:crypto` reads the certificates and the key; the TLS library then gets the last word,
 * since it refuses some certificates `node:crypto` reads (X.509 version 1).
 *
 * @module
 */

import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import {
  CertificateExpiredError,
  CertificateFormatError,
  CertificateNotYetValidError,
  CertificateVersionError,
  ChainOrderError,
  EncryptedKeyError,
  KeyMismatchError,
  PrivateKeyFormatError,
  TlsLibraryError,
} from "./errors.ts";

/** A certificate chain and its private key, as PEM text. */
export interface TlsPair {
  /** The chain: the server's certificate first, then each issuer (certbot's `fullchain.pem`). */
  cert: string;
  /** The unencrypted private key of the first certificate (PKCS#8, PKCS#1 or SEC1). */
  key: string;
}

/** What {@linkcode inspectPair} needs besides the pair. */
export interface InspectOptions {
  /** The time to check validity against. @default now */
  now?: Date;
  /** The certificate's file, named in errors. @default none */
  certFile?: string;
  /** The key's file, named in errors. @default none */
  keyFile?: string;
}

/** What a valid pair holds, as `--check` and the start-up log report it. */
export interface CertificateInfo {
  /** The names it is valid for: its subjectAltName DNS and IP entries, else its CN. */
  names: string[];
  /** Its subject, one `KEY=value` a line. */
  subject: string;
  /** Its issuer, one `KEY=value` a line. */
  issuer: string;
  /** Start of validity. */
  notBefore: Date;
  /** End of validity. */
  notAfter: Date;
  /** Its serial number, upper-case hex. */
  serial: string;
  /** Its SHA-256 fingerprint, colon-separated hex. */
  fingerprint256: string;
  /** The key's algorithm: `rsa`, `ec`, `ed25519`... */
  keyType: string;
  /** How many certificates the chain holds, the server's own included. */
  chainLength: number;
  /** Things that work but that browsers may hold against it. */
  warnings: string[];
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type:\s*4,\s*ENCRYPTED/m;

/**
 * Checks a pair and describes it: the chain parses and is in order, the key is not
 * encrypted, parses and matches the first certificate, the certificate is valid now, and the
 * TLS library accepts the pair.
 *
 * @param pair the chain and key, PEM
 * @param options the time to check against, and the file names for errors
 * @returns what the certificate holds
 * @throws {TlsPairError} one of its subclasses, naming the first problem found
 * @example
 * ```ts ignore
 * const info = inspectPair({ cert: fullchain, key: privkey }, { certFile, keyFile });
 * console.log(`serving ${info.names.join(", ")} until ${info.notAfter.toISOString()}`);
 * ```
 */
export function inspectPair(pair: TlsPair, options: InspectOptions = {}): CertificateInfo {
  const chain = parseChain(pair.cert, options.certFile);
  const key = parseKey(pair.key, options.keyFile);
  const leaf = chain[0];
  if (!leaf.checkPrivateKey(key)) throw new KeyMismatchError(options.keyFile);
  checkValidity(leaf, options.now ?? new Date(), options.certFile);
  try {
    // The TLS library's own parser, without binding a port: what the server will accept.
    Deno.createHttpClient({ cert: pair.cert, key: pair.key }).close();
  } catch (err) {
    throw new TlsLibraryError((err as Error).message);
  }
  return describe(chain, key);
}

/**
 * Reads every certificate of a PEM chain, leaf first, each issued by the next.
 *
 * @throws {CertificateFormatError} none, or one that does not parse
 * @throws {CertificateVersionError} the leaf is X.509 version 1
 * @throws {ChainOrderError} a certificate is not issued by the next one
 */
function parseChain(pem: string, file?: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new CertificateFormatError(0, "", file);
  const chain = blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new CertificateFormatError(i + 1, (err as Error).message, file);
    }
  });
  if (x509Version(chain[0].raw) < 3) throw new CertificateVersionError(file);
  for (let i = 0; i + 1 < chain.length; i++) {
    const [cert, issuer] = [chain[i], chain[i + 1]];
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
      throw new ChainOrderError(i + 1, file);
    }
  }
  return chain;
}

/**
 * Reads an unencrypted private key.
 *
 * @throws {EncryptedKeyError} it is encrypted
 * @throws {PrivateKeyFormatError} it does not parse
 */
function parseKey(pem: string, file?: string): KeyObject {
  // Checked first: parsing an encrypted key without a passphrase fails with a message that
  // does not say why ("interrupted or cancelled").
  if (ENCRYPTED_KEY.test(pem)) throw new EncryptedKeyError(file);
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new PrivateKeyFormatError((err as Error).message, file);
  }
}

function checkValidity(leaf: X509Certificate, now: Date, file?: string): void {
  if (now < leaf.validFromDate) throw new CertificateNotYetValidError(leaf.validFromDate, file);
  if (now > leaf.validToDate) throw new CertificateExpiredError(leaf.validToDate, file);
}

function describe(chain: X509Certificate[], key: KeyObject): CertificateInfo {
  const leaf = chain[0];
  const san = (leaf.subjectAltName ?? "").split(", ").filter((s) => /^(DNS|IP Address):/.test(s));
  const names = san.map((s) => s.replace(/^(DNS|IP Address):/, ""));
  const warnings: string[] = [];
  if (names.length === 0) {
    warnings.push("no subjectAltName: browsers ignore the common name and refuse the certificate");
    const cn = leaf.subject.match(/^CN=(.*)$/m)?.[1];
    if (cn) names.push(cn);
  }
  if (chain.length === 1 && leaf.checkIssued(leaf) && leaf.verify(leaf.publicKey)) {
    warnings.push("self-signed: browsers refuse it unless each user's system trusts it");
  }
  if (leaf.ca) warnings.push("the server's certificate is a CA certificate (CA:TRUE)");
  return {
    names,
    subject: leaf.subject,
    issuer: leaf.issuer,
    notBefore: leaf.validFromDate,
    notAfter: leaf.validToDate,
    serial: leaf.serialNumber.toUpperCase(),
    fingerprint256: leaf.fingerprint256,
    keyType: key.asymmetricKeyType ?? "unknown",
    chainLength: chain.length,
    warnings,
  };
}

/**
 * The X.509 version of a DER certificate: 1 unless its TBSCertificate opens with the explicit
 * `[0]` version field (which v1 certificates leave out).
 */
function x509Version(der: Uint8Array): number {
  const tbs = headerLength(der, 0); // Certificate ::= SEQUENCE { tbsCertificate, ... }
  const first = tbs + headerLength(der, tbs); // TBSCertificate ::= SEQUENCE { [0] version, ...
  // [0] { INTEGER version }: a0 03 02 01 <v>, where v is 0 for v1, 2 for v3.
  return der[first] === 0xa0 && der[first + 2] === 0x02 ? der[first + 4] + 1 : 1;
}

/** The length of the DER tag-and-length header at `offset`. */
function headerLength(der: Uint8Array, offset: number): number {
  const len = der[offset + 1];
  return len < 0x80 ? 2 : 2 + (len & 0x7f);
}
