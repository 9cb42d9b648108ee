import { createHash, webcrypto } from 'node:crypto';
import { DOMImplementation, DOMParser, XMLSerializer } from '@xmldom/xmldom';
import * as xadesjs from 'xadesjs';
import { pemToDer } from '#platform/pdf/cades.ts';
import type { Signer } from '#platform/pdf/signer.ts';

/**
 * XAdES-BES **detached** signatures (ETSI EN 319 132-1, B-B level): a standalone `ds:Signature`
 * document (a `.xsig`) whose first reference names the signed file by a relative URI and digests
 * its bytes exactly as they are (no transform: an external URI dereferences to an octet stream,
 * XML-DSig §4.4.3.2), so the same function signs an XML file or any other file, and the file is
 * never parsed here (no XML parser sees untrusted input). The second reference covers the
 * XAdES SignedProperties: SigningTime, SigningCertificateV2 (the signer's certificate by its
 * SHA-256) and a DataObjectFormat with the file's MIME type. KeyInfo carries the signer's
 * certificate and its chain.
 *
 * This is what the DOMAIN calls a detached signature (a file plus its `.xsig`). An ENI document's
 * "internally detached" signature (TF02) puts the content and the signature side by side in one
 * XML container and references the content by `#id`; that container is built by the ENI module.
 *
 * Verify with `xmlsec1 --verify --trusted-pem ca.pem --id-attr:Id
 * http://uri.etsi.org/01903/v1.3.2#:SignedProperties sig.xsig`, run in the directory that holds
 * the signed file under the name given as `uri`.
 *
 * The signature value is made by a `Signer` (a remote service, or `localSigner`), so the private
 * key need not be in the process: xadesjs asks its crypto engine to sign the canonical
 * SignedInfo; the engine set here hashes those bytes and hands the SHA-256 to the `Signer`.
 */

type ExternalKey = webcrypto.CryptoKey;

/** Stand-in keys that route xadesjs's `subtle.sign` to a `Signer`. */
const externalKeys = new WeakMap<object, Signer>();

const subtle = webcrypto.subtle;
/**
 * Node's webcrypto for everything, except signing with a stand-in key. (xadesjs also installs
 * this engine in pkijs; every other call goes to Node's webcrypto unchanged.)
 */
const engine = {
  getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
  randomUUID: webcrypto.randomUUID.bind(webcrypto),
  subtle: new Proxy(subtle, {
    get(target, prop) {
      if (prop === 'sign') {
        return async (alg: unknown, key: webcrypto.CryptoKey, data: ArrayBuffer | ArrayBufferView) => {
          const signer = externalKeys.get(key);
          if (!signer) return target.sign(alg as webcrypto.AlgorithmIdentifier, key, data);
          const bytes = ArrayBuffer.isView(data)
            ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
            : Buffer.from(data as ArrayBuffer);
          const value = await signer.signDigest(createHash('sha256').update(bytes).digest());
          return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }),
};

function installEngine(): void {
  // Another module may have installed plain webcrypto; this engine behaves the same for it.
  let current: unknown;
  try {
    current = xadesjs.Application.crypto;
  } catch {
    current = undefined;
  }
  if (current !== engine) {
    xadesjs.Application.setEngine(
      'NodeJS',
      engine as unknown as Parameters<typeof xadesjs.Application.setEngine>[1],
    );
  }
}

let dependenciesSet = false;
function installXmlDependencies(): void {
  if (dependenciesSet) return;
  xadesjs.setNodeDependencies({ DOMParser, XMLSerializer, DOMImplementation });
  dependenciesSet = true;
}

function externalKey(signer: Signer): ExternalKey {
  const key = {
    type: 'private',
    extractable: false,
    algorithm: { name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } },
    usages: ['sign'],
  };
  externalKeys.set(key, signer);
  return key as unknown as ExternalKey;
}

function pemBodies(pem: string): string[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) =>
    pemToDer(p).toString('base64'),
  );
}

export type XadesDetachedOptions = {
  /** How the signature names the file: a relative URI (e.g. its file name), resolved next to the `.xsig`. */
  uri: string;
  /** The file's MIME type, recorded in DataObjectFormat (default application/xml). */
  mimeType?: string;
  /** The claimed signing time (SigningTime); default now. */
  signingTime?: Date;
  /** The signer's claimed role (SignerRole/ClaimedRoles): the position (càrrec) they sign as. */
  claimedRole?: string;
};

/** Signs `content` and returns the detached XAdES-BES signature document (UTF-8 XML text). */
export async function signXadesDetached(
  content: Uint8Array,
  signer: Signer,
  opts: XadesDetachedOptions,
): Promise<string> {
  if (/^#|^\s*$|[\s"<>]/.test(opts.uri))
    throw new Error('uri must be a non-empty relative URI without spaces');
  installXmlDependencies();
  installEngine();
  const certificate = pemToDer(signer.certificatePem).toString('base64');
  const signed = new xadesjs.SignedXml();
  const referenceId = 'r-detached-content';
  const format = new xadesjs.xml.DataObjectFormat();
  format.ObjectReference = `#${referenceId}`;
  format.MimeType = opts.mimeType ?? 'application/xml';
  signed.SignedProperties.SignedDataObjectProperties.DataObjectFormats.Add(format);
  // A copy with its own buffer: xmldsigjs hashes views by their whole underlying buffer.
  const bytes = new Uint8Array(content);
  await signed.Sign({ name: 'RSASSA-PKCS1-v1_5' }, externalKey(signer), bytes, {
    references: [{ id: referenceId, uri: opts.uri, hash: 'SHA-256' }],
    x509: [certificate, ...pemBodies(signer.chainPem)],
    signingCertificateV2: certificate,
    signingTime: { value: opts.signingTime ?? new Date() },
    ...(opts.claimedRole ? { signerRole: { claimed: [opts.claimedRole] } } : {}),
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n${signed.toString()}`;
}
