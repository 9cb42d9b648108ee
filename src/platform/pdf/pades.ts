import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { SUBFILTER_ETSI_CADES_DETACHED, Signer } from '@signpdf/utils';
import type { PDFDocument } from 'pdf-lib';
import { type SigningIdentity, signCadesDetached } from './cades.ts';
import './native-deflate.ts';

/**
 * PAdES-B-B (ETSI EN 319 142-1): a PDF signature whose /SubFilter is ETSI.CAdES.detached and
 * whose CMS carries signing-certificate-v2 and no signing-time (see cades.ts). The claimed
 * signing time is the signature dictionary's /M.
 *
 * This signs a document once, as it is produced (a receipt, an evidence): the placeholder is
 * added to the pdf-lib document, which is saved without object streams, and the CMS fills it.
 * A document that will carry several signatures is prepared once and each later signature is
 * an incremental update (the signatures module does that).
 */

/** Bytes reserved for the CMS: an RSA-2048 signature with a certificate chain of 2–3 certificates fits with room. */
const SIGNATURE_BYTES = 16384;

export type SignatureMeta = {
  /** The signer's name as shown by viewers (e.g. the seal's subject). */
  name: string;
  reason: string;
  location: string;
  contactInfo: string;
  /** The claimed signing time, written to /M. */
  signingTime: Date;
};

class CadesSigner extends Signer {
  readonly #identity: SigningIdentity;
  constructor(identity: SigningIdentity) {
    super();
    this.#identity = identity;
  }
  override async sign(pdfBuffer: Buffer): Promise<Buffer> {
    return signCadesDetached(pdfBuffer, this.#identity);
  }
}

export async function signPdfDocument(
  doc: PDFDocument,
  identity: SigningIdentity,
  meta: SignatureMeta,
): Promise<Buffer> {
  pdflibAddPlaceholder({
    pdfDoc: doc,
    reason: meta.reason,
    contactInfo: meta.contactInfo,
    name: meta.name,
    location: meta.location,
    signingTime: meta.signingTime,
    signatureLength: SIGNATURE_BYTES,
    subFilter: SUBFILTER_ETSI_CADES_DETACHED,
    appName: 'Lligall',
  });
  const bytes = await doc.save({ useObjectStreams: false });
  return new SignPdf().sign(Buffer.from(bytes), new CadesSigner(identity));
}
