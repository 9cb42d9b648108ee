// @peculiar/x509 (imported here directly) needs the reflection polyfill loaded first.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import * as x509 from '@peculiar/x509';
import { PDFDocument, type PDFRef } from 'pdf-lib';
import { type Ctx, cliActor, noRequest } from '#platform/context.ts';
import {
  createSelfSignedCa,
  exportPkcs8,
  generateSigningKeyPair,
  issueSigningCertificate,
} from '#platform/crypto/certs.ts';
import { appendSignature, appendStamp } from '#platform/pdf/incremental.ts';
import { localSigner, type Signer } from '#platform/pdf/signer.ts';
import { setUserNif } from '#modules/identity/user-nif.ts';
import { appointHolder, createPosition } from '#modules/positions/positions.service.ts';
import { addTrustedCa } from '#modules/signatures/trusted-cas.service.ts';
import type { Tenant } from '#modules/tenancy/tenancy.repository.ts';
import {
  currentTotp,
  makeServer,
  makeTenant,
  makeUser,
  openTestEnv,
  TestClock,
  type TestEnv,
  type TestUser,
  tokenHeaders,
} from '#test/helpers/harness.ts';
import { multipart } from '#test/helpers/multipart.ts';
import { nssDbTrusting, opensslCmsVerify, pdfsig, tmpDir, xmlsecVerify } from '#test/helpers/pdf-tools.ts';

/**
 * Signing by upload (issue 4 item 2b), on the backend the suite runs on: a signer signs
 * elsewhere — a PDF with an incremental signature made by our PAdES code with a key that is not
 * Lligall's, a detached `.p7s` made by `openssl cms -sign`, an `.xsig` made by `xmlsec1 --sign`
 * — with a certificate of an outside CA the operator trusts, carrying the signer's NIF, and
 * uploads it with a fresh TOTP. Each wrong upload is refused with its own code and changes
 * nothing: another file's bytes, a changed draft, another field, two signatures, an untrusted
 * CA, someone else's certificate, an altered signature, a wrong TOTP, out of turn, another entity.
 */

const SECRETARY_NIF = '12345678Z';
const OTHER_NIF = '87654321X';
const DAY = 86400_000;

let env: TestEnv;
let app: FastifyInstance;
let tenant: Tenant;
let other: Tenant;
let base: string;
let expedientId: string;
let creator: TestUser;
let secretary: TestUser;
let mayor: TestUser;
const H = new Map<string, Record<string, string>>();
let otherHeaders: Record<string, string>;

type Identity = { certificatePem: string; keyPem: string; caPem: string; signer: Signer };
let trustedCa: { pem: string; issue: (nif: string, cn: string, qualified?: boolean) => Promise<Identity> };
let untrustedCa: { pem: string; issue: (nif: string, cn: string) => Promise<Identity> };
let mine: Identity;
let someoneElse: Identity;
let mineUntrusted: Identity;

const h = (u: TestUser) => H.get(u.id)!;

async function outsideCa(name: string) {
  const keys = await generateSigningKeyPair();
  const now = env.clock.now();
  const pem = await createSelfSignedCa({
    subject: [
      ['C', 'ES'],
      ['O', name],
      ['CN', `${name} CA`],
    ],
    keys,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 365 * DAY),
  });
  return {
    pem,
    /** A person's certificate; `qualified`: with the QCStatement QcCompliance (ETSI EN 319 412-5). */
    async issue(nif: string, cn: string, qualified = false): Promise<Identity> {
      const personKeys = await generateSigningKeyPair();
      const validity = {
        notBefore: new Date(now.getTime() - DAY),
        notAfter: new Date(now.getTime() + 365 * DAY),
      };
      const certificatePem = qualified
        ? (
            await x509.X509CertificateGenerator.create({
              serialNumber: '01',
              subject: new x509.Name([
                { '2.5.4.6': ['ES'] },
                { '2.5.4.5': [`IDCES-${nif}`] },
                { '2.5.4.3': [`${cn} - NIF ${nif}`] },
              ]),
              issuer: new x509.X509Certificate(pem).subjectName,
              ...validity,
              signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
              publicKey: personKeys.publicKey,
              signingKey: keys.privateKey,
              extensions: [
                new x509.BasicConstraintsExtension(false, undefined, true),
                new x509.KeyUsagesExtension(
                  x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
                  true,
                ),
                // qcStatements: SEQUENCE { SEQUENCE { id-etsi-qcs-QcCompliance } }
                new x509.Extension(
                  '1.3.6.1.5.5.7.1.3',
                  false,
                  Buffer.from('300a3008060604008e460101', 'hex'),
                ),
              ],
            })
          ).toString('pem')
        : await issueSigningCertificate({
            subject: [
              ['C', 'ES'],
              ['serialNumber', `IDCES-${nif}`],
              ['CN', `${cn} - NIF ${nif}`],
            ],
            publicKey: personKeys.publicKey,
            issuerCertificatePem: pem,
            issuerPrivateKey: keys.privateKey,
            ...validity,
          });
      const der = await exportPkcs8(personKeys.privateKey);
      const keyPem = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
      return {
        certificatePem,
        keyPem,
        caPem: pem,
        signer: localSigner({ certificatePem, chainPem: pem, privateKey: personKeys.privateKey }),
      };
    },
  };
}

async function pdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(text, { x: 50, y: 780, size: 12 });
  return Buffer.from(await doc.save());
}

async function draft(title: string, name: string, type: string, data: Buffer): Promise<string> {
  const form = multipart({ title, documentType: 'TD11', draft: 'true' }, { name, type, data });
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients/${expedientId}/documents`,
    headers: { ...h(creator), ...form.headers },
    payload: form.body,
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

async function startCircuit(id: string, signers: string[]) {
  const res = await app.inject({
    method: 'POST',
    url: `${base}/documents/${id}/circuit`,
    headers: h(creator),
    payload: { steps: signers.map((s) => ({ kind: 'sign', mode: 'all', signers: [s] })) },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

async function draftContent(id: string, u = secretary): Promise<Buffer> {
  const res = await app.inject({
    method: 'GET',
    url: `${base}/documents/${id}/draft/content`,
    headers: h(u),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.rawPayload;
}

async function upload(
  id: string,
  u: TestUser,
  data: Buffer,
  opts: { totp?: string; at?: string; headers?: Record<string, string>; name?: string } = {},
) {
  env.clock.advance(31_000); // one TOTP code confirms one act
  const form = multipart(
    { totp: opts.totp ?? currentTotp(env, u) },
    { name: opts.name ?? 'signed.pdf', type: 'application/octet-stream', data },
  );
  return app.inject({
    method: 'POST',
    url: `${opts.at ?? base}/documents/${id}/sign/upload`,
    headers: { ...(opts.headers ?? h(u)), ...form.headers },
    payload: form.body,
  });
}

async function circuitOf(id: string) {
  const res = await app.inject({
    method: 'GET',
    url: `${base}/documents/${id}/circuit`,
    headers: h(creator),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

function signPdf(current: Buffer, field: string, who: Identity, name = 'Signant extern'): Promise<Buffer> {
  return appendSignature(current, {
    fieldName: field,
    signer: who.signer,
    reason: 'Signatura — El secretari',
    location: 'Fora de Lligall',
    name,
    signingTime: env.clock.now(),
    appearanceLines: [name, 'Signat amb una eina externa'],
  });
}

/** `openssl cms -sign` of a detached CAdES (DER) over `content`, as a desktop tool would. */
function opensslSign(content: Buffer, who: Identity): Buffer {
  const dir = tmpDir('cms-sign');
  fs.writeFileSync(path.join(dir, 'content'), content);
  fs.writeFileSync(path.join(dir, 'cert.pem'), who.certificatePem);
  fs.writeFileSync(path.join(dir, 'key.pem'), who.keyPem);
  fs.writeFileSync(path.join(dir, 'ca.pem'), who.caPem);
  return execFileSync('openssl', [
    'cms',
    '-sign',
    '-binary',
    '-md',
    'sha256',
    '-outform',
    'DER',
    '-in',
    path.join(dir, 'content'),
    '-signer',
    path.join(dir, 'cert.pem'),
    '-inkey',
    path.join(dir, 'key.pem'),
    '-certfile',
    path.join(dir, 'ca.pem'),
  ]);
}

/**
 * `xmlsec1 --sign` of a detached XAdES-BES: a template naming the file by its name, with XAdES
 * SignedProperties (signing time, the signer's certificate by its SHA-256) filled in here.
 */
function xmlsecSign(fileName: string, content: Buffer, who: Identity, plain = false): string {
  const dir = tmpDir('xmlsec-sign');
  fs.writeFileSync(path.join(dir, fileName), content);
  fs.writeFileSync(path.join(dir, 'key.pem'), who.keyPem);
  fs.writeFileSync(path.join(dir, 'cert.pem'), who.certificatePem);
  fs.writeFileSync(path.join(dir, 'ca.pem'), who.caPem);
  const cert = new X509Certificate(who.certificatePem);
  const certDigest = createHash('sha256').update(cert.raw).digest('base64');
  const serial = BigInt(`0x${cert.serialNumber}`).toString(10);
  const issuer = cert.issuer.split('\n').reverse().join(',');
  const sha256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
  const c14n = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
  const template = `<?xml version="1.0" encoding="UTF-8"?>
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="sig">
<ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="${c14n}"/>
<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
<ds:Reference URI="${fileName}"><ds:DigestMethod Algorithm="${sha256}"/><ds:DigestValue/></ds:Reference>
<ds:Reference URI="#sp" Type="http://uri.etsi.org/01903#SignedProperties"><ds:Transforms><ds:Transform Algorithm="${c14n}"/></ds:Transforms><ds:DigestMethod Algorithm="${sha256}"/><ds:DigestValue/></ds:Reference>
</ds:SignedInfo>
<ds:SignatureValue/>
<ds:KeyInfo><ds:X509Data/></ds:KeyInfo>
<ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" Target="#sig"><xades:SignedProperties Id="sp"><xades:SignedSignatureProperties><xades:SigningTime>${env.clock.now().toISOString()}</xades:SigningTime><xades:SigningCertificate><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="${sha256}"/><ds:DigestValue>${certDigest}</ds:DigestValue></xades:CertDigest><xades:IssuerSerial><ds:X509IssuerName>${issuer}</ds:X509IssuerName><ds:X509SerialNumber>${serial}</ds:X509SerialNumber></xades:IssuerSerial></xades:Cert></xades:SigningCertificate></xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object>
</ds:Signature>
`;
  const text = plain
    ? template
        .replace(/<ds:Reference URI="#sp"[\s\S]*?<\/ds:Reference>\n/, '')
        .replace(/<ds:Object>[\s\S]*<\/ds:Object>\n/, '')
    : template;
  fs.writeFileSync(path.join(dir, 'tmpl.xml'), text);
  return execFileSync(
    'xmlsec1',
    [
      '--sign',
      '--privkey-pem',
      'key.pem,cert.pem,ca.pem',
      '--id-attr:Id',
      'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
      'tmpl.xml',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
}

/** An incremental revision, written by hand, that redefines the catalog with a document action (/AA, before saving). */
async function withDocumentAction(pdfBytes: Buffer): Promise<Buffer> {
  const doc = await PDFDocument.load(pdfBytes, { updateMetadata: false });
  const root = doc.context.trailerInfo.Root as PDFRef;
  const catalog = doc.catalog
    .toString()
    .replace(/>>\s*$/, '/AA << /WS << /S /JavaScript /JS (app.alert\\(1\\)) >> >>\n>>');
  const prev = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(pdfBytes.toString('latin1'))![1];
  const base =
    pdfBytes[pdfBytes.length - 1] === 0x0a ? pdfBytes : Buffer.concat([pdfBytes, Buffer.from('\n')]);
  const object = `${root.objectNumber} 0 obj\n${catalog}\nendobj\n`;
  const xrefAt = base.length + object.length;
  const id = doc.context.trailerInfo.ID ? ` /ID ${doc.context.trailerInfo.ID.toString()}` : '';
  const tail =
    `xref\n${root.objectNumber} 1\n${String(base.length).padStart(10, '0')} 00000 n\r\n` +
    `trailer\n<< /Size ${doc.context.largestObjectNumber + 1} /Root ${root.toString()}${id} /Prev ${prev} >>\n` +
    `startxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.concat([base, Buffer.from(object + tail, 'latin1')]);
}

async function refusedAs(
  res: Awaited<ReturnType<typeof upload>>,
  status: number,
  code: string,
  why?: RegExp,
) {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.json().code, code, res.body);
  if (why) assert.match(res.json().detail, why);
}

before(async () => {
  // An hour back: certificates issued now are valid for openssl, xmlsec1 and pdfsig at the real
  // time while each act moves the clock 31 s on.
  env = await openTestEnv({ clock: new TestClock(new Date(Date.now() - 3600_000)) });
  app = await makeServer(env);
  tenant = await makeTenant(env);
  other = await makeTenant(env);
  base = `/api/v1/entities/${tenant.slug}`;
  creator = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  secretary = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  mayor = await makeUser(env, { tenant, roles: ['handler'], totp: true });
  for (const u of [creator, secretary, mayor]) H.set(u.id, await tokenHeaders(env, u));
  otherHeaders = await tokenHeaders(
    env,
    await makeUser(env, { tenant: other, roles: ['handler'], totp: true }),
  );
  const op = { actor: cliActor, request: noRequest, clock: env.clock };
  await env.db.platform((tx) => setUserNif(tx, op, secretary.username, SECRETARY_NIF));
  trustedCa = await outsideCa('Prestador Qualificat');
  untrustedCa = await outsideCa('Prestador Desconegut');
  await addTrustedCa(env.db, op, { pem: trustedCa.pem, label: 'Prestador qualificat de prova' });
  mine = await trustedCa.issue(SECRETARY_NIF, 'SECRETARI DE PROVA');
  someoneElse = await trustedCa.issue(OTHER_NIF, 'ALTRA PERSONA');
  mineUntrusted = await untrustedCa.issue(SECRETARY_NIF, 'SECRETARI DE PROVA');
  const res = await app.inject({
    method: 'POST',
    url: `${base}/expedients`,
    headers: h(creator),
    payload: { title: 'Certificats' },
  });
  assert.equal(res.statusCode, 201, res.body);
  expedientId = res.json().id;
});
after(async () => {
  await app?.close();
  await env?.close();
});

describe('signing by upload', () => {
  it('a PDF signed elsewhere in the signer’s field is accepted; every wrong upload is refused with its code and changes nothing', async () => {
    const id = await draft('Certificat', 'certificat.pdf', 'application/pdf', await pdf('Certifico que…'));
    const started = await startCircuit(id, [secretary.id, mayor.id]);
    const prepared = await draftContent(id);
    assert.equal(createHash('sha256').update(prepared).digest('hex'), started.sha256);

    // out of turn: the mayor's field, by the mayor, before the secretary
    await refusedAs(
      await upload(id, mayor, await signPdf(prepared, 'Lligall_sig_2_1', mine)),
      409,
      'SIGNATURE_NOT_YOUR_TURN',
    );
    // the draft changed before the signature (a byte of its binary comment, same length)
    const changed = Buffer.from(prepared);
    changed[10] = (changed[10] ?? 0) ^ 1;
    assert.ok(!changed.equals(prepared));
    await refusedAs(
      await upload(id, secretary, await signPdf(changed, 'Lligall_sig_1_1', mine)),
      422,
      'SIGNATURE_UPLOAD_NOT_APPENDED',
      /unchanged beginning/,
    );
    // signed in someone else's field
    await refusedAs(
      await upload(id, secretary, await signPdf(prepared, 'Lligall_sig_2_1', mine)),
      422,
      'SIGNATURE_UPLOAD_NOT_APPENDED',
      /not in your field/,
    );
    // two signatures appended
    const twice = await signPdf(await signPdf(prepared, 'Lligall_sig_1_1', mine), 'Lligall_sig_2_1', mine);
    await refusedAs(
      await upload(id, secretary, twice),
      422,
      'SIGNATURE_UPLOAD_NOT_APPENDED',
      /2 new signatures/,
    );
    // the appended revisions also change the page: text stamped on it, then signed
    const overwritten = await appendStamp(prepared, 0, { x: 50, y: 700, width: 300, height: 40 }, [
      'No certifico res',
    ]);
    await refusedAs(
      await upload(id, secretary, await signPdf(overwritten, 'Lligall_sig_1_1', mine)),
      422,
      'SIGNATURE_UPLOAD_NOT_APPENDED',
      /changes object/,
    );
    // an appended revision that gives the document an action, then the signature
    await refusedAs(
      await upload(id, secretary, await signPdf(await withDocumentAction(prepared), 'Lligall_sig_1_1', mine)),
      422,
      'SIGNATURE_UPLOAD_NOT_APPENDED',
      /catalog/,
    );
    const good = await signPdf(prepared, 'Lligall_sig_1_1', mine);
    // a CA the installation does not trust
    await refusedAs(
      await upload(id, secretary, await signPdf(prepared, 'Lligall_sig_1_1', mineUntrusted)),
      422,
      'SIGNATURE_UNTRUSTED',
    );
    // a trusted certificate of another person
    await refusedAs(
      await upload(id, secretary, await signPdf(prepared, 'Lligall_sig_1_1', someoneElse)),
      422,
      'SIGNATURE_SIGNER_MISMATCH',
    );
    // the signature's bytes altered after signing: a hex digit of the appended signature's /Location
    const altered = Buffer.from(good);
    const loc = altered.indexOf('/Location <FEFF', prepared.length, 'latin1') + '/Location <FEFF'.length + 3;
    altered[loc] = altered[loc] === 0x30 ? 0x31 : 0x30;
    assert.ok(!altered.equals(good));
    await refusedAs(await upload(id, secretary, altered), 422, 'SIGNATURE_UPLOAD_INVALID', /not intact/);
    // not a PDF at all
    await refusedAs(await upload(id, secretary, Buffer.from('hola')), 422, 'SIGNATURE_UPLOAD_NOT_APPENDED');
    // the right file with a wrong TOTP
    const wrong = currentTotp(env, secretary) === '000000' ? '111111' : '000000';
    await refusedAs(await upload(id, secretary, good, { totp: wrong }), 401, 'TOTP_INVALID');
    // another entity's caller
    const foreign = await upload(id, secretary, good, {
      at: `/api/v1/entities/${other.slug}`,
      headers: otherHeaders,
    });
    assert.equal(foreign.statusCode, 404, foreign.body);

    // none of that changed anything
    const still = await circuitOf(id);
    assert.equal(still.sha256, started.sha256);
    assert.equal(still.steps[0].signers[0].action, null);

    // the right upload
    const accepted = await upload(id, secretary, good);
    assert.equal(accepted.statusCode, 200, accepted.body);
    const afterUpload = accepted.json();
    assert.equal(afterUpload.steps[0].signers[0].action, 'signed');
    assert.equal(afterUpload.steps[0].signers[0].method, 'upload');
    assert.equal(afterUpload.currentStep, 2);
    assert.equal(afterUpload.sha256, createHash('sha256').update(good).digest('hex'));
    assert.ok((await draftContent(id, mayor)).equals(good), 'the next signer signs the uploaded file');

    // the mayor signs after it through Lligall: both signatures stay valid
    env.clock.advance(31_000);
    const last = await app.inject({
      method: 'POST',
      url: `${base}/documents/${id}/sign`,
      headers: h(mayor),
      payload: { totp: currentTotp(env, mayor) },
    });
    assert.equal(last.statusCode, 200, last.body);
    assert.equal(last.json().state, 'completed');
    const final = (
      await app.inject({ method: 'GET', url: `${base}/documents/${id}/content`, headers: h(creator) })
    ).rawPayload;
    assert.ok(final.subarray(0, good.length).equals(good));
    const sig = pdfsig(final, nssDbTrusting(trustedCa.pem));
    const parts = sig.out.split(/Signature #\d+:/).slice(1);
    assert.equal(parts.length, 2, sig.out);
    for (const p of parts) assert.match(p, /Signature is Valid/);
    assert.match(parts[0]!, /Certificate is Trusted/);

    const report = (
      await app.inject({ method: 'GET', url: `${base}/documents/${id}/verification`, headers: h(creator) })
    ).json();
    assert.equal(report.signatures.length, 2);
    const [external, demo] = report.signatures;
    assert.equal(external.integrity, 'valid');
    assert.equal(external.trust, 'trusted');
    assert.match(external.signer, /SECRETARI DE PROVA/);
    assert.equal(external.demo, false, 'a signature by an outside CA is not a demo one');
    assert.equal(external.qualified, false, 'its certificate does not declare itself qualified');
    assert.equal(demo.demo, true);
    assert.equal(demo.qualified, false);

    // the audit trail names each refusal and the accepted certificate
    const trail = (
      await app.inject({ method: 'GET', url: `${base}/expedients/${expedientId}/audit`, headers: h(creator) })
    ).json() as { action: string; objectType: string; details: Record<string, unknown> }[];
    const mineEvents = trail.filter((e) => e.objectType === 'expedient' && e.details.documentId === id);
    const refusals = mineEvents.filter((e) => e.action === 'signature.refused').map((e) => e.details.reason);
    for (const code of [
      'SIGNATURE_UPLOAD_NOT_APPENDED',
      'SIGNATURE_UNTRUSTED',
      'SIGNATURE_SIGNER_MISMATCH',
      'SIGNATURE_UPLOAD_INVALID',
      'TOTP_INVALID',
    ])
      assert.ok(refusals.includes(code), `${code} in ${refusals.join(', ')}`);
    const signed = mineEvents.find((e) => e.action === 'signature.sign' && e.details.method === 'upload');
    assert.ok(signed, 'the accepted upload is audited');
    const cert = signed.details.certificate as { subject: string; nif: string };
    assert.equal(cert.nif, SECRETARY_NIF);
    assert.match(cert.subject, /SECRETARI DE PROVA/);
  });

  it('a decree whose deciding signature is uploaded gets its number and stamp, and the secretary signs after it', async () => {
    const admin = await makeUser(env, { tenant, roles: ['admin'], totp: true });
    const op = { actor: cliActor, request: noRequest, clock: env.clock };
    await env.db.platform((tx) => setUserNif(tx, op, mayor.username, OTHER_NIF));
    const positions = await env.db.tenant(tenant.id, async (tx) => {
      const ctx: Ctx = {
        tenant: {
          id: tenant.id,
          dir3: tenant.dir3,
          slug: tenant.slug,
          name: tenant.name,
          status: tenant.status,
        },
        actor: { kind: 'user', id: admin.id, label: admin.username, platformRoles: [] },
        roles: ['admin'],
        request: noRequest,
        clock: env.clock,
      };
      const m = await createPosition(tx, ctx, { kind: 'mayor', title: "L'alcalde" });
      await appointHolder(tx, ctx, m.id, { userId: mayor.id, validFrom: '2020-01-01' });
      const sec = await createPosition(tx, ctx, { kind: 'secretary', title: 'El secretari' });
      await appointHolder(tx, ctx, sec.id, { userId: secretary.id, validFrom: '2020-01-01' });
      return { mayor: m.id, secretary: sec.id };
    });
    const form = multipart(
      { title: 'Decret de llicència', documentType: 'TD01', draft: 'true' },
      { name: 'decret.pdf', type: 'application/pdf', data: await pdf('Resolc concedir la llicència') },
    );
    const d = await app.inject({
      method: 'POST',
      url: `${base}/expedients/${expedientId}/documents`,
      headers: { ...h(creator), ...form.headers },
      payload: form.body,
    });
    assert.equal(d.statusCode, 201, d.body);
    const id = d.json().id as string;
    const started = await app.inject({
      method: 'POST',
      url: `${base}/documents/${id}/circuit`,
      headers: h(creator),
      payload: {
        steps: [
          { kind: 'sign', mode: 'all', signers: [{ positionId: positions.mayor }] },
          { kind: 'sign', mode: 'all', signers: [{ positionId: positions.secretary }] },
        ],
        resolution: { summary: 'Concedir una llicència d’obres' },
      },
    });
    assert.equal(started.statusCode, 201, started.body);

    const decided = await upload(
      id,
      mayor,
      await signPdf(await draftContent(id, mayor), 'Lligall_sig_1_1', someoneElse),
    );
    assert.equal(decided.statusCode, 200, decided.body);
    assert.equal(decided.json().steps[0].signers[0].method, 'upload');
    const year = new Intl.DateTimeFormat('en', { timeZone: 'Europe/Madrid', year: 'numeric' }).format(
      env.clock.now(),
    );
    const bookRes = await app.inject({
      method: 'GET',
      url: `${base}/resolutions?year=${year}`,
      headers: h(creator),
    });
    assert.equal(bookRes.statusCode, 200, bookRes.body);
    const entry = (bookRes.json() as { number: string; documentId: string; stamped: boolean }[]).find(
      (e) => e.documentId === id,
    );
    assert.equal(entry?.number, `${year}/000001`);
    assert.equal(entry?.stamped, true, 'the number was stamped after the uploaded signature');

    env.clock.advance(31_000);
    const transcribed = await app.inject({
      method: 'POST',
      url: `${base}/documents/${id}/sign`,
      headers: h(secretary),
      payload: { totp: currentTotp(env, secretary) },
    });
    assert.equal(transcribed.statusCode, 200, transcribed.body);
    assert.equal(transcribed.json().state, 'completed');
    const final = (
      await app.inject({ method: 'GET', url: `${base}/documents/${id}/content`, headers: h(creator) })
    ).rawPayload;
    const parts = pdfsig(final)
      .out.split(/Signature #\d+:/)
      .slice(1);
    assert.equal(parts.length, 2);
    for (const p of parts) assert.match(p, /Signature is Valid/);
  });

  it('a .p7s made by openssl cms over the exact file is accepted in a CAdES circuit; over other bytes it is refused', async () => {
    const data = Buffer.from('Acta de la comissió\r\n\u0000dades binàries\n', 'utf8');
    const id = await draft('Acta', 'acta.odt', 'application/vnd.oasis.opendocument.text', data);
    const started = await startCircuit(id, [secretary.id]);
    assert.equal(started.format, 'CAdES');

    await refusedAs(
      await upload(id, secretary, opensslSign(Buffer.concat([data, Buffer.from(' ')]), mine), {
        name: 'acta.p7s',
      }),
      422,
      'SIGNATURE_UPLOAD_INVALID',
    );
    await refusedAs(
      await upload(id, secretary, Buffer.from('not a signature'), { name: 'acta.p7s' }),
      422,
      'SIGNATURE_UPLOAD_INVALID',
    );
    await refusedAs(
      await upload(id, secretary, opensslSign(data, someoneElse), { name: 'acta.p7s' }),
      422,
      'SIGNATURE_SIGNER_MISMATCH',
    );
    await refusedAs(
      await upload(id, secretary, opensslSign(data, mineUntrusted), { name: 'acta.p7s' }),
      422,
      'SIGNATURE_UNTRUSTED',
    );
    assert.equal((await circuitOf(id)).state, 'active');

    const qualified = await trustedCa.issue(SECRETARY_NIF, 'SECRETARI DE PROVA', true);
    const p7s = opensslSign(data, qualified);
    const ok = await upload(id, secretary, p7s, { name: 'acta.p7s' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().state, 'completed');
    assert.equal(ok.json().steps[0].signers[0].method, 'upload');

    const list = (
      await app.inject({ method: 'GET', url: `${base}/documents/${id}/signatures`, headers: h(creator) })
    ).json();
    assert.equal(list.length, 1);
    assert.equal(list[0].method, 'upload');
    assert.equal(list[0].format, 'CAdES');
    const stored = (
      await app.inject({
        method: 'GET',
        url: `${base}/documents/${id}/signatures/${list[0].id}`,
        headers: h(creator),
      })
    ).rawPayload;
    assert.ok(stored.equals(p7s), 'the uploaded signature is kept as it came');
    const v = opensslCmsVerify(stored, data, trustedCa.pem);
    assert.equal(v.status, 0, v.out);

    const report = (
      await app.inject({ method: 'GET', url: `${base}/documents/${id}/verification`, headers: h(creator) })
    ).json();
    assert.equal(report.signed, true);
    assert.equal(report.signatures[0].trust, 'trusted');
    assert.equal(report.signatures[0].demo, false);
    assert.equal(
      report.signatures[0].qualified,
      true,
      'trusted, not demo, and the certificate declares QcCompliance',
    );
  });

  it('an .xsig made by xmlsec1 over the XML file is accepted in a XAdES circuit; a signature of someone without a NIF is refused', async () => {
    const xml = Buffer.from('<?xml version="1.0"?>\n<certificat><text>Certifico</text></certificat>\n');
    const id = await draft('Certificat XML', 'certificat.xml', 'application/xml', xml);
    const started = await startCircuit(id, [mayor.id]);
    assert.equal(started.format, 'XAdES');
    const xsig = xmlsecSign('certificat.xml', xml, mine);
    const independent = xmlsecVerify(xsig, trustedCa.pem, { 'certificat.xml': xml });
    assert.equal(independent.status, 0, independent.out);

    // the mayor has no NIF recorded: an upload cannot be theirs
    await refusedAs(
      await upload(id, mayor, Buffer.from(xsig), { name: 'certificat.xsig' }),
      422,
      'SIGNATURE_SIGNER_MISMATCH',
    );
    const op = { actor: cliActor, request: noRequest, clock: env.clock };
    await env.db.platform((tx) => setUserNif(tx, op, mayor.username, OTHER_NIF));
    await refusedAs(
      await upload(id, mayor, Buffer.from(xmlsecSign('certificat.xml', xml, mine)), {
        name: 'certificat.xsig',
      }),
      422,
      'SIGNATURE_SIGNER_MISMATCH',
    );
    const theirs = xmlsecSign('certificat.xml', xml, someoneElse);
    const tampered = xmlsecSign(
      'certificat.xml',
      Buffer.from(xml.toString().replace('Certifico', 'No certifico')),
      someoneElse,
    );
    await refusedAs(
      await upload(id, mayor, Buffer.from(tampered), { name: 'certificat.xsig' }),
      422,
      'SIGNATURE_UPLOAD_INVALID',
    );
    // a plain XML-DSig (no XAdES properties) over the right bytes, by the right person
    const plain = xmlsecSign('certificat.xml', xml, someoneElse, true);
    assert.doesNotMatch(plain, /SignedProperties/);
    assert.equal(xmlsecVerify(plain, trustedCa.pem, { 'certificat.xml': xml }).status, 0);
    await refusedAs(
      await upload(id, mayor, Buffer.from(plain), { name: 'certificat.xsig' }),
      422,
      'SIGNATURE_UPLOAD_INVALID',
      /not XAdES/,
    );
    // more than a detached signature may weigh
    const big = await upload(id, mayor, Buffer.alloc(1024 * 1024 + 1, 0x20), { name: 'certificat.xsig' });
    assert.equal(big.statusCode, 413, big.body);
    assert.equal(big.json().code, 'PAYLOAD_TOO_LARGE');
    const ok = await upload(id, mayor, Buffer.from(theirs), { name: 'certificat.xsig' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().state, 'completed');

    const report = (
      await app.inject({ method: 'GET', url: `${base}/documents/${id}/verification`, headers: h(creator) })
    ).json();
    assert.equal(report.signatures.length, 1);
    assert.match(report.signatures[0].format, /^XAdES-BES \(detached\)/);
    assert.equal(report.signatures[0].integrity, 'valid');
    assert.equal(report.signatures[0].trust, 'trusted');
    assert.equal(report.signatures[0].demo, false);
  });
});
