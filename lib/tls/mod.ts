/**
 * TLS built into the launcher (issue 11): checking a certificate and key, the TLS front door
 * that serves them and reloads them without dropping connections, the reloader that SIGHUP
 * drives, the plain-HTTP redirect listener, and the certificate's expiry.
 *
 * @module
 */

export {
  type CertificateInfo,
  type InspectOptions,
  inspectPair,
  type TlsPair,
} from "./certificate.ts";
export {
  CertificateExpiredError,
  CertificateFormatError,
  CertificateNotYetValidError,
  CertificateVersionError,
  ChainOrderError,
  EncryptedKeyError,
  KeyFileAccessError,
  KeyMismatchError,
  PrivateKeyFormatError,
  TlsFileError,
  TlsLibraryError,
  TlsPairError,
} from "./errors.ts";
export { describeCertificate } from "./describe.ts";
export { type Expiry, EXPIRY_WARNING_DAYS, expiryOf } from "./expiry.ts";
export {
  checkKeyFile,
  type LoadedPair,
  loadPair,
  MAX_PEM_BYTES,
  type PemFile,
  type PemFileReader,
  readPemFile,
  type TlsFiles,
} from "./pair_files.ts";
export { createRedirectHandler, type RedirectOptions } from "./redirect.ts";
export {
  CertificateReloader,
  type CertificateTarget,
  type ReloaderCounts,
  type ReloaderOptions,
} from "./reloader.ts";
export {
  type TerminatorCounts,
  type TlsClient,
  TlsTerminator,
  type TlsTerminatorOptions,
} from "./terminator.ts";
