import type { BlobStore } from '#platform/blobs/blob-store.ts';
import type { Clock, Ctx } from '#platform/context.ts';
import type { Database, Tx } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { SignatureFormatError, type SignatureReport } from '#platform/signatures/verify-cms.ts';
import { verifyPdf } from '#platform/signatures/verify-pdf.ts';
import { verifyXades } from '#platform/signatures/verify-xades.ts';
import { recordEvent } from '#modules/audit/audit.service.ts';
import { readDocument } from '#modules/expedients/expedient-documents.service.ts';
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
 * their enveloped XAdES/XML-DSig signatures; other files carry no embedded signature and report
 * none. The time the document was stored (incorporated) by Lligall, recorded in its own audited
 * database, is the proof of existence used for the certificates' validity (see
 * platform/signatures/trust.ts): a seal that expires later does not turn its receipts `expired`.
 */

export type DocumentToVerify = {
  id: string;
  sha256: string;
  mimeType: string;
  storedAt: Date;
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
  return {
    id: doc.id,
    sha256: doc.sha256,
    mimeType: doc.mime_type,
    storedAt: new Date(doc.incorporated_at ?? doc.created_at),
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

export function toVerifiedSignature(r: SignatureReport): VerifiedSignature {
  return {
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

/** Verifies the stored file's signatures. Call it outside any transaction. */
export async function verifyStoredDocument(
  deps: { db: Database; blobs: BlobStore; clock: Clock },
  doc: DocumentToVerify,
): Promise<VerificationReport> {
  const now = deps.clock.now();
  const isPdf = doc.mimeType === 'application/pdf';
  const isXml = XML_TYPES.has(doc.mimeType) || doc.mimeType.endsWith('+xml');
  let reports: SignatureReport[] = [];
  if (isPdf || isXml) {
    const bytes = await deps.blobs.readVerified(doc.sha256);
    const opts = { anchors: await loadTrustAnchors(deps.db), existedAt: doc.storedAt, now };
    try {
      if (isPdf) reports = await verifyPdf(bytes, opts);
      else if (bytes.includes('http://www.w3.org/2000/09/xmldsig#')) reports = await verifyXades(bytes, opts);
    } catch (e) {
      if (e instanceof SignatureFormatError) {
        throw new AppError('SIGNATURE_UNREADABLE', `The document cannot be verified: ${e.message}`);
      }
      throw e;
    }
  }
  const signatures = reports.map(toVerifiedSignature);
  return {
    documentId: doc.id,
    verifiedAt: now.toISOString(),
    signed:
      signatures.length > 0 && signatures.every((s) => s.integrity === 'valid' && s.trust === 'trusted'),
    signatures,
  };
}
