import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Clock } from '#platform/context.ts';
import { splitPemCertificates } from '#platform/crypto/certs.ts';
import type { Database } from '#platform/db/database.ts';
import { AppError } from '#platform/errors.ts';
import { appendSignature, preparePdfForSignatures, type SignatureSlot } from '#platform/pdf/incremental.ts';
import { type Signer, signCadesDetachedWith } from '#platform/pdf/signer.ts';
import { signXadesDetached } from '#platform/xml/xades.ts';
import type { KeyConfig } from '#modules/seals/seals.service.ts';
import { LocalCscService } from './csc/csc.local.ts';
import { OID } from './csc/csc.types.ts';
import { type PlannedSlot, reasonOf, type Turn } from './circuits.service.ts';

/**
 * The slow half of a circuit, outside any transaction: preparing the PDF once (a signature page
 * with one stamp area per signature to come) and appending one PAdES-B-B signature through the
 * signer's CSC credential, authorised with their second factor for exactly this hash.
 */

const COLS = 2;
const ROWS = 7;
const SLOT_W = 250;
const SLOT_H = 90;

/** Adds the signature page and the empty signature fields (the document is saved whole once). */
export async function preparePdf(pdf: Buffer, slots: PlannedSlot[], title: string): Promise<Buffer> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false }).catch(() => {
    throw new AppError('CIRCUIT_FORMAT_UNSUPPORTED', 'The draft is not a readable PDF');
  });
  if (doc.isEncrypted) throw new AppError('CIRCUIT_FORMAT_UNSUPPORTED', 'Encrypted PDFs cannot be signed');
  const page = doc.addPage([595.28, 841.89]);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  page.drawText('Signatures electròniques', { x: 40, y: 800, size: 13, font });
  page.drawText(title.replace(/[^\x20-\x7e\u00a0-\u00ff]/g, '?').slice(0, 90), {
    x: 40,
    y: 782,
    size: 9,
    font,
  });
  const pageIndex = doc.getPageCount() - 1;
  const saved = Buffer.from(await doc.save({ useObjectStreams: false }));
  const areas: SignatureSlot[] = slots.map((s, i) => ({
    fieldName: s.fieldName,
    page: pageIndex,
    rect: {
      x: 40 + (i % COLS) * (SLOT_W + 15),
      y: 760 - ((Math.floor(i / COLS) % ROWS) + 1) * (SLOT_H + 10),
      width: SLOT_W,
      height: SLOT_H,
    },
    label: s.label,
  }));
  return preparePdfForSignatures(saved, areas);
}

export type SigningDeps = { config: KeyConfig & { env: string }; db: Database; clock: Clock };
type Who = { userId: string; label: string; request: { ip: string | null; userAgent: string | null } };

/** Thrown when the CSC service refuses the second factor: nothing was signed. */
export class ConfirmationRefused extends Error {
  readonly code: 'TOTP_INVALID' | 'TOTP_REQUIRED' | 'INVALID_CREDENTIALS';
  constructor(code: ConfirmationRefused['code']) {
    super(code);
    this.code = code;
  }
}

/**
 * A `Signer` over the user's CSC credential: `credentials/info` gives the chain; each digest is
 * authorised (`credentials/authorize` with the TOTP, or in demo mode the password of a user
 * without TOTP) and signed (`signatures/signHash`). The local service is the demo/test one;
 * production plugs a qualified remote service behind the same interface.
 */
export async function cscSigner(
  deps: SigningDeps,
  who: Who,
  factor: { totp?: string | undefined; password?: string | undefined },
): Promise<Signer> {
  const csc = new LocalCscService(deps, who);
  const [credentialId] = await csc.listCredentials(who.userId);
  if (!credentialId) throw new AppError('CSC_CREDENTIAL_NOT_FOUND', 'You have no signing credential');
  const info = await csc.credentialInfo(credentialId);
  const [certificatePem, ...chain] = splitPemCertificates(info.certificates);
  if (!certificatePem) throw new AppError('INTERNAL', 'The credential has no certificate');
  return {
    certificatePem,
    chainPem: chain.join(''),
    async signDigest(digest: Buffer): Promise<Buffer> {
      const hash = digest.toString('base64');
      let sad: string;
      try {
        sad = (
          await csc.authorize(credentialId, 1, [hash], {
            ...(factor.totp ? { otp: factor.totp } : {}),
            ...(factor.password && !factor.totp ? { pin: factor.password } : {}),
          })
        ).sad;
      } catch (e) {
        if (e instanceof AppError && e.code === 'CSC_OTP_INVALID')
          throw new ConfirmationRefused(factor.totp ? 'TOTP_INVALID' : 'TOTP_REQUIRED');
        if (e instanceof AppError && e.code === 'CSC_PIN_INVALID')
          throw new ConfirmationRefused('INVALID_CREDENTIALS');
        throw e;
      }
      const [value] = await csc.signHash(credentialId, sad, [hash], OID.sha256WithRSAEncryption);
      return Buffer.from(value!, 'base64');
    },
  };
}

/** The position as a signature shows it: "<position>" or "<position> (per substitució)". */
function positionText(turn: Turn): string {
  return turn.positionTitle ? `${turn.positionTitle}${turn.bySubstitution ? ' (per substitució)' : ''}` : '';
}

/**
 * The detached signature of `turn` over the draft's bytes (unchanged): CAdES-B-B (`.p7s`, DER,
 * with signing-time) or XAdES-BES (`.xsig`, naming the file by its name, with the position as
 * the claimed role). Verifiable with `openssl cms -verify -binary -inform DER -content <file>`
 * and `xmlsec1 --verify` next to the file.
 */
export async function signDetachedTurn(
  content: Buffer,
  turn: Turn,
  signer: Signer,
  at: Date,
): Promise<Buffer> {
  if (turn.format === 'CAdES') return signCadesDetachedWith(content, signer, { signingTime: at });
  if (turn.format !== 'XAdES')
    throw new AppError('INTERNAL', `No detached signature in a ${turn.format} circuit`);
  const position = positionText(turn);
  const xml = await signXadesDetached(content, signer, {
    uri: encodeURIComponent(turn.fileName),
    mimeType: turn.mimeType,
    signingTime: at,
    ...(position ? { claimedRole: position } : {}),
  });
  return Buffer.from(xml, 'utf8');
}

/** The signature `turn` adds: a PAdES revision of the PDF, or a detached signature file. */
export async function signTurnContent(
  current: Buffer,
  turn: Turn,
  signer: Signer,
  entity: { name: string; dir3: string },
  at: Date,
): Promise<Buffer> {
  if (turn.format === 'PAdES') return signTurn(current, turn, signer, entity, at);
  return signDetachedTurn(current, turn, signer, at);
}

/** Appends the signature of `turn` to the draft's current bytes. */
export async function signTurn(
  pdf: Buffer,
  turn: Turn,
  signer: Signer,
  entity: { name: string; dir3: string },
  at: Date,
) {
  const position = positionText(turn);
  return appendSignature(pdf, {
    fieldName: turn.fieldName!,
    signer,
    reason: reasonOf(turn),
    location: `${entity.name} (${entity.dir3})`,
    name: turn.signerName,
    signingTime: at,
    appearanceLines: [
      turn.signerName,
      ...(position ? [position] : []),
      `${reasonOf(turn).split(' — ')[0]} · ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      'Signatura de demostració (no qualificada)',
    ],
  });
}
