import type { BlobStore } from '#platform/blobs/blob-store.ts';
import type { Clock, Ctx } from '#platform/context.ts';
import type { Database, Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { X509Certificate } from 'node:crypto';
import {
  SignatureFormatError,
  type SignatureReport,
  verifyCmsDetached,
} from '#platform/signatures/verify-cms.ts';
import { verifyPdf } from '#platform/signatures/verify-pdf.ts';
import { verifyXades } from '#platform/signatures/verify-xades.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { readDocument } from '#modules/expedients/expedient-documents.service.ts';
import { getInstallationCaPem } from '#modules/seals/seals.service.ts';
import { loadTrustAnchors } from './trusted-cas.service.ts';

/**
 * The verification report of a document's signatures (issue 4, item 5): each signature's
 * signer, position, claimed time, format, integrity, trust, coverage and certificate path.
 *
 * Two steps, so that no slow work happens inside a transaction: `openForVerification` (in the
 * caller's tenant transaction) checks that the caller may read the document — the same rule as
 * reading it — and audits the verification as a read; `verifyStoredDocument` (after commit)
 * reads the file from the blob store and verifies it against the installation's trust anchors.
 *
 * PDFs are verified signature by signature (PAdES and adbe.pkcs7.detached); XML documents by
 * their enveloped XAdES/XML-DSig signatures; then, for any document, each detached signature
 * recorded for it (`document_signatures`: the CAdES `.p7s` and XAdES `.xsig` of its circuit)
 * over the document's bytes, with the position recorded for the act.
 *
 * Demo signatures: a signature whose certificate path ends at the installation CA (the local CSC
 * service's keys and the demo seals) is `demo: true, qualified: false` — "demo — not qualified"
 * wherever it shows. `qualified` is true only for a trusted, non-demo signature whose certificate
 * declares itself qualified (QcCompliance); the trusted list itself is the operator's. The time the document was stored (incorporated) by Lligall, recorded in its own audited
 * database, is the proof of existence used for the certificates' validity (see
 * platform/signatures/trust.ts): a seal that expires later does not turn its receipts `expired`.
 */

export type DocumentToVerify = {
  id: string;
  sha256: string;
  mimeType: string;
  storedAt: Date;
  /** Its detached signatures (CAdES/XAdES circuits), oldest first; none when absent. */
  detached?: {
    id: string;
    format: 'CAdES' | 'XAdES';
    method: 'csc' | 'upload';
    sha256: string;
    contentSha256: string;
    positionTitle: string | null;
    bySubstitution: boolean;
  }[];
};

export type SignatureCertificate = {
  subject: string;
  issuer: string;
  serialNumber: string;
  validFrom: string;
  validTo: string;
};

export type VerifiedSignature = {
  signer: string | null;
  position: string | null;
  signedAt: string | null;
  format: string;
  integrity: 'valid' | 'invalid';
  integrityProblem: string | null;
  trust: 'trusted' | 'untrusted' | 'expired' | 'revoked' | 'unknown';
  trustReason: string;
  coverage: SignatureReport['coverage'];
  reason: string | null;
  signerFacts: SignatureReport['signerFacts'];
  certificate: SignatureCertificate | null;
  chain: SignatureCertificate[];
  /** Made with a demo key of this installation (its path ends at the installation CA): "demo — not qualified". */
  demo: boolean;
  /** A trusted, non-demo signature whose certificate declares itself qualified (QcCompliance). */
  qualified: boolean;
  /** A detached signature file of the document (`GET …/signatures/{id}`), null for a signature inside the file. */
  detachedSignatureId: string | null;
};

export type VerificationReport = {
  documentId: string;
  verifiedAt: string;
  /** True when the document has signatures and every one is intact and trusted. */
  signed: boolean;
  signatures: VerifiedSignature[];
};

export async function openForVerification(tx: Tx, ctx: Ctx, documentId: string): Promise<DocumentToVerify> {
  const doc = await readDocument(tx, ctx, documentId, 'read');
  await recordEvent(tx, {
    tenantId: ctx.tenant.id,
    actor: ctx.actor,
    request: ctx.request,
    clock: ctx.clock,
    action: 'document.verify',
    objectType: 'document',
    objectId: doc.id,
    details: { expedientIds: doc.expedientIds, sha256: doc.sha256 },
  });
  const detached = await tx
    .selectFrom('document_signatures')
    .select(['id', 'format', 'method', 'sha256', 'content_sha256', 'position_title', 'by_substitution'])
    .where('tenant_id', '=', ctx.tenant.id)
    .where('document_id', '=', doc.id)
    .orderBy('created_at')
    .orderBy('step_no')
    .orderBy('signer_no')
    .execute();
  return {
    id: doc.id,
    sha256: doc.sha256,
    mimeType: doc.mime_type,
    storedAt: new Date(doc.incorporated_at ?? doc.created_at),
    detached: detached.map((d) => ({
      id: d.id,
      format: d.format,
      method: d.method,
      sha256: d.sha256,
      contentSha256: d.content_sha256,
      positionTitle: d.position_title,
      bySubstitution: d.by_substitution,
    })),
  };
}

function certificate(c: NonNullable<SignatureReport['certificate']>): SignatureCertificate {
  return {
    subject: c.subject,
    issuer: c.issuer,
    serialNumber: c.serialNumber,
    validFrom: c.validFrom,
    validTo: c.validTo,
  };
}

export function toVerifiedSignature(
  r: SignatureReport,
  opts: { demoCaFingerprint?: string | null; detachedSignatureId?: string | null } = {},
): VerifiedSignature {
  const anchor = r.chain[r.chain.length - 1];
  const demo =
    !!opts.demoCaFingerprint && r.chain.length > 0 && anchor?.fingerprintSha256 === opts.demoCaFingerprint;
  return {
    demo,
    qualified: !demo && r.integrity === 'valid' && r.trust === 'trusted' && !!r.certificate?.qcCompliance,
    detachedSignatureId: opts.detachedSignatureId ?? null,
    signer: r.signer,
    position: r.position,
    signedAt: r.signedAt,
    format: r.format,
    integrity: r.integrity,
    integrityProblem: r.integrityProblem,
    trust: r.trust,
    trustReason: r.trustReason,
    coverage: r.coverage,
    reason: r.reason,
    signerFacts: r.signerFacts,
    certificate: r.certificate ? certificate(r.certificate) : null,
    chain: r.chain.map(certificate),
  };
}

const XML_TYPES = new Set(['application/xml', 'text/xml']);

/** The installation CA's SHA-256 fingerprint (lowercase hex, as CertificateView gives it), if it exists. */
async function installationCaFingerprint(db: Database): Promise<string | null> {
  const pem = await getInstallationCaPem(db);
  return pem ? new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase() : null;
}

/** Verifies the stored file's signatures. Call it outside any transaction. */
export async function verifyStoredDocument(
  deps: { db: Database; blobs: BlobStore; clock: Clock },
  doc: DocumentToVerify,
): Promise<VerificationReport> {
  const now = deps.clock.now();
  const isPdf = doc.mimeType === 'application/pdf';
  const isXml = XML_TYPES.has(doc.mimeType) || doc.mimeType.endsWith('+xml');
  let reports: SignatureReport[] = [];
  const detachedIds: (string | null)[] = [];
  const detached = doc.detached ?? [];
  const needsBytes = isPdf || isXml || detached.length > 0;
  const bytes = needsBytes ? await deps.blobs.readVerified(doc.sha256) : Buffer.alloc(0);
  const opts = needsBytes ? { anchors: await loadTrustAnchors(deps.db), existedAt: doc.storedAt, now } : null;
  if (opts && (isPdf || isXml)) {
    try {
      if (isPdf) reports = await verifyPdf(bytes, opts);
      else if (bytes.includes('http://www.w3.org/2000/09/xmldsig#')) reports = await verifyXades(bytes, opts);
    } catch (e) {
      if (e instanceof SignatureFormatError) {
        throw new AppError('SIGNATURE_UNREADABLE', `The document cannot be verified: ${e.message}`);
      }
      throw e;
    }
    for (const _ of reports) detachedIds.push(null);
  }
  for (const d of opts ? detached : []) {
    const sig = await deps.blobs.readVerified(d.sha256);
    let found: SignatureReport[];
    try {
      found =
        d.format === 'CAdES'
          ? await verifyCmsDetached(sig, bytes, opts!)
          : await verifyXades(sig, { ...opts!, detachedContent: bytes });
    } catch (e) {
      if (e instanceof SignatureFormatError) {
        throw new AppError('SIGNATURE_UNREADABLE', `A detached signature cannot be verified: ${e.message}`);
      }
      throw e;
    }
    const recorded = d.positionTitle
      ? `${d.positionTitle}${d.bySubstitution ? ' (per substitució)' : ''}`
      : null;
    for (const r of found) {
      reports.push({ ...r, position: r.position ?? recorded });
      detachedIds.push(d.id);
    }
  }
  const demoCaFingerprint = reports.length ? await installationCaFingerprint(deps.db) : null;
  const signatures = reports.map((r, i) =>
    toVerifiedSignature(r, { demoCaFingerprint, detachedSignatureId: detachedIds[i] ?? null }),
  );
  return {
    documentId: doc.id,
    verifiedAt: now.toISOString(),
    signed:
      signatures.length > 0 && signatures.every((s) => s.integrity === 'valid' && s.trust === 'trusted'),
    signatures,
  };
}
