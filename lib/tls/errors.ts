/**
 * Why a certificate and key cannot be served, one small class per reason. Each message says
 * what is wrong and what to do; the fields say which file and what was found, for `--check`
 * and the log line of a refused reload.
 *
 * @module
 */

/** A certificate or key that cannot be served; the base of every error of this folder. */
export class TlsPairError extends Error {
  /** The file at fault, when known (the pair may come as text). */
  readonly file?: string;

  /**
   * Makes the error.
   *
   * @param message what is wrong and what to do
   * @param file the file at fault
   */
  constructor(message: string, file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = "TlsPairError";
    this.file = file;
  }
}

/** A certificate file or key file that cannot be read (missing, not a file, too large). */
export class TlsFileError extends TlsPairError {
  /**
   * Makes the error.
   *
   * @param file the file
   * @param problem what went wrong, such as the system's error message
   */
  constructor(file: string, problem: string) {
    super(`cannot read it: ${problem}`, file);
    this.name = "TlsFileError";
  }
}

/** The certificate file holds no certificate, or one that does not parse. */
export class CertificateFormatError extends TlsPairError {
  /** The 1-based position of the bad certificate in the file; 0 when there is none. */
  readonly index: number;

  /**
   * Makes the error.
   *
   * @param index 1-based position of the certificate; 0 when the file holds none
   * @param detail what the parser said
   * @param file the certificate file
   */
  constructor(index: number, detail: string, file?: string) {
    super(
      index === 0
        ? "holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the certificate chain " +
          "(certbot's fullchain.pem), not the key or a DER file"
        : `certificate #${index} does not parse (${detail}): give the chain as PEM text`,
      file,
    );
    this.name = "CertificateFormatError";
    this.index = index;
  }
}

/** An X.509 version 1 certificate: TLS libraries (rustls here, browsers) refuse them. */
export class CertificateVersionError extends TlsPairError {
  /**
   * Makes the error.
   *
   * @param file the certificate file
   */
  constructor(file?: string) {
    super(
      "the certificate is X.509 version 1, which TLS refuses: issue it with extensions " +
        "(e.g. openssl x509 -req ... -extfile with a subjectAltName)",
      file,
    );
    this.name = "CertificateVersionError";
  }
}

/** The chain is not leaf first, each certificate issued by the next. */
export class ChainOrderError extends TlsPairError {
  /** The 1-based position of the certificate the next one did not issue. */
  readonly index: number;

  /**
   * Makes the error.
   *
   * @param index 1-based position of the certificate not issued by its successor
   * @param file the certificate file
   */
  constructor(index: number, file?: string) {
    super(
      `certificate #${index} is not issued by certificate #${index + 1}: the chain must ` +
        "be the server's certificate first, then each issuer in turn (certbot's fullchain.pem)",
      file,
    );
    this.name = "ChainOrderError";
    this.index = index;
  }
}

/** The private key is encrypted: the launcher starts unattended and has no passphrase. */
export class EncryptedKeyError extends TlsPairError {
  /**
   * Makes the error.
   *
   * @param file the key file
   */
  constructor(file?: string) {
    super(
      "the private key is encrypted with a passphrase, which an unattended server cannot " +
        "type: decrypt it once (openssl pkey -in enc.key -out plain.key) and chmod 600 it",
      file,
    );
    this.name = "EncryptedKeyError";
  }
}

/** The key file holds no private key that parses. */
export class PrivateKeyFormatError extends TlsPairError {
  /**
   * Makes the error.
   *
   * @param detail what the parser said
   * @param file the key file
   */
  constructor(detail: string, file?: string) {
    super(
      `holds no usable private key (${detail}): give the PEM private key ` +
        "(certbot's privkey.pem), not the certificate",
      file,
    );
    this.name = "PrivateKeyFormatError";
  }
}

/** The private key is not the key of the (leaf) certificate. */
export class KeyMismatchError extends TlsPairError {
  /**
   * Makes the error.
   *
   * @param file the key file
   */
  constructor(file?: string) {
    super(
      "the private key does not match the certificate: give the key the certificate was " +
        "issued for (after a renewal, both files of the same renewal)",
      file,
    );
    this.name = "KeyMismatchError";
  }
}

/** The certificate's validity ended. */
export class CertificateExpiredError extends TlsPairError {
  /** When it expired. */
  readonly notAfter: Date;

  /**
   * Makes the error.
   *
   * @param notAfter its end of validity
   * @param file the certificate file
   */
  constructor(notAfter: Date, file?: string) {
    super(
      `the certificate expired on ${notAfter.toISOString()}: renew it ` +
        "(browsers refuse an expired certificate)",
      file,
    );
    this.name = "CertificateExpiredError";
    this.notAfter = notAfter;
  }
}

/** The certificate's validity has not begun. */
export class CertificateNotYetValidError extends TlsPairError {
  /** When it becomes valid. */
  readonly notBefore: Date;

  /**
   * Makes the error.
   *
   * @param notBefore its start of validity
   * @param file the certificate file
   */
  constructor(notBefore: Date, file?: string) {
    super(
      `the certificate is not valid before ${notBefore.toISOString()}: check this ` +
        "machine's clock, or wait",
      file,
    );
    this.name = "CertificateNotYetValidError";
    this.notBefore = notBefore;
  }
}

/** The TLS library refused a pair that parsed (its own checks are the last word). */
export class TlsLibraryError extends TlsPairError {
  /**
   * Makes the error.
   *
   * @param detail what the TLS library said
   */
  constructor(detail: string) {
    super(`the TLS library refuses the certificate and key: ${detail}`);
    this.name = "TlsLibraryError";
  }
}

/** Someone besides the launcher's user may read the key file, or another user owns it. */
export class KeyFileAccessError extends TlsPairError {
  /** The key file's owner. */
  readonly uid: number;
  /** The key file's permission bits. */
  readonly mode: number;
  /** The launcher's user. */
  readonly launcherUid: number;

  /**
   * Makes the error.
   *
   * @param file the key file
   * @param found its owner and permission bits
   * @param launcherUid the user the launcher runs as
   */
  constructor(file: string, found: { uid: number; mode: number }, launcherUid: number) {
    const mode = (found.mode & 0o777).toString(8).padStart(3, "0");
    super(
      found.uid !== launcherUid
        ? `the private key belongs to uid ${found.uid}, not to the launcher's user ` +
          `(uid ${launcherUid}): give the launcher its own copy (install -m 600 -o <user>)`
        : `mode ${mode} lets other users read the private key: chmod 600 it`,
      file,
    );
    this.name = "KeyFileAccessError";
    this.uid = found.uid;
    this.mode = found.mode & 0o7777;
    this.launcherUid = launcherUid;
  }
}
