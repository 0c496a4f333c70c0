import assert from "node:assert/strict";
import {
  CertificateExpiredError,
  CertificateFormatError,
  CertificateNotYetValidError,
  CertificateVersionError,
  ChainOrderError,
  EncryptedKeyError,
  inspectPair,
  KeyMismatchError,
  PrivateKeyFormatError,
  type TlsPairError,
} from "../../lib/tls/mod.ts";
import { PKI_NEEDS, TestPki } from "./pki.ts";
import { thrown } from "./support.ts";

const DAY = 86_400_000;

Deno.test({
  name: "inspectPair() accepts sound pairs and says what they hold",
  ignore: PKI_NEEDS.ignore,
  async fn(t) {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    try {
      const rsa = await pki.leaf({ keyType: "rsa" });
      const ec = await pki.leaf({ keyType: "ec" });
      const cases = [
        { what: "RSA key, PKCS#8, chain with the CA", cert: rsa.cert, key: rsa.key, type: "rsa" },
        {
          what: "RSA key, PKCS#1 (BEGIN RSA PRIVATE KEY)",
          cert: rsa.cert,
          key: await pki.traditional(rsa.keyFile, "rsa"),
          type: "rsa",
        },
        {
          what: "EC key, SEC1 (BEGIN EC PRIVATE KEY)",
          cert: ec.cert,
          key: await pki.traditional(ec.keyFile, "ec"),
          type: "ec",
        },
        {
          what: "the leaf alone, without its issuer",
          cert: ec.cert.slice(0, ec.cert.indexOf("-----END CERTIFICATE-----") + 25),
          key: ec.key,
          type: "ec",
        },
      ];
      for (const c of cases) {
        await t.step(c.what, () => {
          const info = inspectPair({ cert: c.cert, key: c.key });
          assert.deepEqual(info.names, ["127.0.0.1", "localhost"]);
          assert.equal(info.keyType, c.type);
          assert.equal(info.serial, c.type === "rsa" ? rsa.serial : ec.serial);
          assert.equal(info.chainLength, c.cert === ec.cert || c.cert === rsa.cert ? 2 : 1);
          assert.match(info.subject, /CN=localhost/);
          assert.match(info.issuer, /CN=pvw test CA/);
          assert.ok(info.notBefore < new Date() && new Date() < info.notAfter);
          assert.match(info.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
          assert.deepEqual(info.warnings, []);
        });
      }
    } finally {
      await pki.remove();
    }
  },
});

Deno.test({
  name: "inspectPair() refuses each unusable pair with its own error, saying what to do",
  ignore: PKI_NEEDS.ignore,
  async fn(t) {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    try {
      const leaf = await pki.leaf({ keyType: "rsa" });
      const other = await Deno.readTextFile(await pki.key());
      const expired = await pki.leaf({
        start: new Date(Date.now() - 3 * DAY),
        end: new Date(Date.now() - DAY),
      });
      const future = await pki.leaf({ start: new Date(Date.now() + DAY) });
      const ca = pki.ca;
      const leafOnly = leaf.cert.slice(0, leaf.cert.indexOf(ca));
      const cases: {
        what: string;
        cert: string;
        key: string;
        error: new (...args: never[]) => TlsPairError;
      }[] = [
        {
          what: "a key that is not the certificate's",
          cert: leaf.cert,
          key: other,
          error: KeyMismatchError,
        },
        {
          what: "an encrypted PKCS#8 key",
          cert: leaf.cert,
          key: await pki.encrypted(leaf.keyFile, "pkcs8"),
          error: EncryptedKeyError,
        },
        {
          what: "an encrypted traditional key (Proc-Type: 4,ENCRYPTED)",
          cert: leaf.cert,
          key: await pki.encrypted(leaf.keyFile, "traditional"),
          error: EncryptedKeyError,
        },
        {
          what: "an expired certificate",
          cert: expired.cert,
          key: expired.key,
          error: CertificateExpiredError,
        },
        {
          what: "a certificate not valid yet",
          cert: future.cert,
          key: future.key,
          error: CertificateNotYetValidError,
        },
        {
          what: "the CA first, then the leaf",
          cert: ca + leafOnly,
          key: leaf.key,
          error: ChainOrderError,
        },
        {
          what: "the key given as the certificate",
          cert: leaf.key,
          key: leaf.key,
          error: CertificateFormatError,
        },
        {
          what: "the certificate given as the key",
          cert: leaf.cert,
          key: leaf.cert,
          error: PrivateKeyFormatError,
        },
        {
          what: "an empty certificate file",
          cert: "",
          key: leaf.key,
          error: CertificateFormatError,
        },
        {
          what: "a PEM block of garbage",
          cert: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
          key: leaf.key,
          error: CertificateFormatError,
        },
        {
          what: "garbage as the key",
          cert: leaf.cert,
          key: "not a key",
          error: PrivateKeyFormatError,
        },
        {
          what: "an X.509 version 1 certificate",
          cert: await pki.version1(leaf.keyFile),
          key: leaf.key,
          error: CertificateVersionError,
        },
      ]; // deno-fmt-ignore
      for (const c of cases) {
        await t.step(c.what, () => {
          const err = thrown(() =>
            inspectPair({ cert: c.cert, key: c.key }, { certFile: "c.pem", keyFile: "k.pem" })
          );
          assert.ok(err instanceof c.error, `${err}`);
          // The message names the file at fault and says what to do (after a colon).
          assert.match(err.message, /^(c|k)\.pem: .+: .+/);
        });
      }
    } finally {
      await pki.remove();
    }
  },
});

Deno.test({
  name: "inspectPair() checks validity against the time it is given",
  ignore: PKI_NEEDS.ignore,
  async fn() {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    try {
      const leaf = await pki.leaf();
      const info = inspectPair(leaf);
      const later = new Date(info.notAfter.getTime() + 1000);
      const err = thrown(() => inspectPair(leaf, { now: later }));
      assert.ok(err instanceof CertificateExpiredError);
      assert.equal(err.notAfter.getTime(), info.notAfter.getTime());
      const before = new Date(info.notBefore.getTime() - 1000);
      assert.throws(() => inspectPair(leaf, { now: before }), CertificateNotYetValidError);
    } finally {
      await pki.remove();
    }
  },
});

Deno.test({
  name: "inspectPair() warns of a certificate without subjectAltName, and of a self-signed one",
  ignore: PKI_NEEDS.ignore,
  async fn() {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    try {
      const noSan = inspectPair(await pki.leaf({ san: false }));
      assert.deepEqual(noSan.names, ["localhost"]); // from the CN
      assert.equal(noSan.warnings.length, 1);
      assert.match(noSan.warnings[0], /no subjectAltName/);
      const selfSigned = inspectPair(await pki.untrusted());
      assert.deepEqual(selfSigned.names, ["127.0.0.1", "localhost"]);
      // openssl req -x509 also marks it CA:TRUE.
      assert.equal(selfSigned.warnings.length, 2);
      assert.match(selfSigned.warnings[0], /self-signed/);
      assert.match(selfSigned.warnings[1], /CA certificate/);
    } finally {
      await pki.remove();
    }
  },
});
