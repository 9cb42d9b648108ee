import { X509Certificate } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDeps } from '../../../app.ts';
import { requestMeta } from '../../../http/scope.ts';
import { splitPemCertificates } from '#platform/crypto/certs.ts';
import { AppError } from '#platform/errors.ts';
import { checkToken, touchToken } from '#modules/identity/identity.service.ts';
import {
  authorizeDemoCredential,
  consumeSad,
  cscError,
  demoCredentialInfo,
  ensureDemoCredential,
  listDemoCredentials,
} from './csc.local.ts';
import { OID } from './csc.types.ts';

const strict = { additionalProperties: false } as const;
const Str = (max: number) => Type.String({ minLength: 1, maxLength: max });
const ClientData = Type.Optional(Type.String({ maxLength: 2000 }));
const Hash = Type.String({ minLength: 44, maxLength: 44 });
const Hashes = Type.Array(Hash, { minItems: 1, maxItems: 100 });
const AuthData = Type.Array(Type.Object({ id: Str(20), value: Str(300) }, strict), { maxItems: 4 });

/** The CSC v2 base path of the local service (the HTTP client's base URL is the server's origin + this). */
export const CSC_BASE_PATH = '/csc/v2';

/**
 * The local CSC API v2 service, served by Lligall itself under /csc/v2 — only in demo,
 * development and test modes: with LLIGALL_ENV=production these routes do not exist (404).
 * Authentication is OAuth2-style `Authorization: Bearer <Lligall API token>` of the signer (CSC
 * `authType: external`); no session cookies. Errors are problem+json whose extension members
 * `error` and `error_description` carry the CSC error (invalid_request, invalid_otp, invalid_pin).
 */
export function registerLocalCscRoutes(app: FastifyInstance, deps: AppDeps): void {
  if (deps.config.env === 'production') return;
  const cscDeps = { config: deps.config, db: deps.db, clock: deps.clock };

  async function signer(req: FastifyRequest) {
    const header = req.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer '))
      throw new AppError('UNAUTHENTICATED', 'Send Authorization: Bearer <token>', cscError('invalid_token'));
    const now = deps.clock.now();
    const check = await deps.db.platformRead((q) => checkToken(q, header.slice(7).trim(), now));
    if (!check.auth)
      throw new AppError('UNAUTHENTICATED', 'Unknown or revoked token', cscError('invalid_token'));
    const tokenId = check.touchTokenId;
    if (tokenId) await deps.db.platform((tx) => touchToken(tx, tokenId, now));
    return { userId: check.auth.id, label: check.auth.username, request: requestMeta(req) };
  }

  app.post(
    `${CSC_BASE_PATH}/info`,
    {
      schema: {
        tags: ['csc'],
        summary: 'CSC v2 info: the local (demo) remote signing service',
        body: Type.Optional(Type.Object({ lang: Type.Optional(Str(10)) }, strict)),
        response: {
          200: Type.Object({
            specs: Type.String(),
            name: Type.String(),
            logo: Type.String(),
            region: Type.String(),
            lang: Type.String(),
            description: Type.String(),
            authType: Type.Array(Type.String()),
            methods: Type.Array(Type.String()),
          }),
        },
      },
    },
    async () => ({
      specs: '2.0.0.0',
      name: 'Lligall local CSC service (demo — not qualified)',
      logo: '',
      region: 'ES',
      lang: 'ca',
      description: 'Demo keys issued by the installation CA; never qualified, never in production.',
      authType: ['external'],
      methods: ['credentials/list', 'credentials/info', 'credentials/authorize', 'signatures/signHash'],
    }),
  );

  app.post(
    `${CSC_BASE_PATH}/credentials/list`,
    {
      schema: {
        tags: ['csc'],
        summary: 'CSC v2 credentials/list: the caller’s demo credential (created on first call)',
        body: Type.Optional(
          Type.Object(
            {
              userID: Type.Optional(Str(100)),
              credentialInfo: Type.Optional(Type.Boolean()),
              certificates: Type.Optional(Type.String()),
              certInfo: Type.Optional(Type.Boolean()),
              authInfo: Type.Optional(Type.Boolean()),
              maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
              pageToken: Type.Optional(Str(200)),
              clientData: ClientData,
            },
            strict,
          ),
        ),
        response: { 200: Type.Object({ credentialIDs: Type.Array(Type.String()) }) },
      },
    },
    async (req) => {
      const who = await signer(req);
      const userID = (req.body as { userID?: string } | undefined)?.userID;
      if (userID !== undefined && userID !== who.userId) return { credentialIDs: [] };
      await ensureDemoCredential(cscDeps, who);
      return { credentialIDs: await deps.db.platform((tx) => listDemoCredentials(tx, who.userId)) };
    },
  );

  app.post(
    `${CSC_BASE_PATH}/credentials/info`,
    {
      schema: {
        tags: ['csc'],
        summary: 'CSC v2 credentials/info: key, certificate chain (base64 DER) and authorisation mode',
        body: Type.Object(
          {
            credentialID: Str(100),
            certificates: Type.Optional(
              Type.Union([Type.Literal('none'), Type.Literal('single'), Type.Literal('chain')]),
            ),
            certInfo: Type.Optional(Type.Boolean()),
            authInfo: Type.Optional(Type.Boolean()),
            lang: Type.Optional(Str(10)),
            clientData: ClientData,
          },
          strict,
        ),
        response: {
          200: Type.Object({
            description: Type.String(),
            signatureQualifier: Type.String(),
            key: Type.Object({ status: Type.String(), algo: Type.Array(Type.String()), len: Type.Integer() }),
            cert: Type.Object({
              status: Type.String(),
              certificates: Type.Array(Type.String()),
              issuerDN: Type.String(),
              serialNumber: Type.String(),
              subjectDN: Type.String(),
              validFrom: Type.String(),
              validTo: Type.String(),
            }),
            auth: Type.Object({
              mode: Type.String(),
              expression: Type.String(),
              objects: Type.Array(
                Type.Object({
                  type: Type.String(),
                  id: Type.String(),
                  format: Type.String(),
                  label: Type.String(),
                }),
              ),
            }),
            multisign: Type.Integer(),
            lang: Type.String(),
          }),
        },
      },
    },
    async (req) => {
      const who = await signer(req);
      const body = req.body as { credentialID: string; certificates?: 'none' | 'single' | 'chain' };
      const info = await deps.db.platform((tx) => demoCredentialInfo(tx, who.userId, body.credentialID));
      const chain = splitPemCertificates(info.certificates);
      const leaf = new X509Certificate(chain[0]!);
      const wanted = body.certificates ?? 'single';
      const certs = (wanted === 'none' ? [] : wanted === 'single' ? chain.slice(0, 1) : chain).map((pem) =>
        new X509Certificate(pem).raw.toString('base64'),
      );
      return {
        description: info.description,
        signatureQualifier: 'eu_eidas_aes', // advanced at most: a demo key held by the application is never qualified
        key: {
          status: 'enabled',
          algo: [OID.sha256WithRSAEncryption, OID.rsaEncryption],
          len: info.keyLength,
        },
        cert: {
          status: 'valid',
          certificates: certs,
          issuerDN: leaf.issuer.replaceAll('\n', ', '),
          serialNumber: leaf.serialNumber,
          subjectDN: leaf.subject.replaceAll('\n', ', '),
          validFrom: leaf.validFromDate.toISOString(),
          validTo: leaf.validToDate.toISOString(),
        },
        auth: {
          mode: info.authMode,
          expression: 'OTP',
          objects: [{ type: 'Password', id: 'OTP', format: 'N', label: 'TOTP' }],
        },
        multisign: info.multisign,
        lang: 'ca',
      };
    },
  );

  app.post(
    `${CSC_BASE_PATH}/credentials/authorize`,
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        tags: ['csc'],
        summary: 'CSC v2 credentials/authorize: a single-use SAD for these hashes, against the TOTP code',
        description:
          'Authorisation data as `authData: [{id: "OTP", value}]` (or `{id: "PIN", value}` — the password, only for a user without TOTP, demo only), or the v1-style `OTP`/`PIN` fields. 400 CSC_OTP_INVALID (error invalid_otp) or CSC_PIN_INVALID (invalid_pin).',
        body: Type.Object(
          {
            credentialID: Str(100),
            numSignatures: Type.Integer({ minimum: 1, maximum: 100 }),
            hashes: Hashes,
            hashAlgorithmOID: Type.Optional(Type.Literal(OID.sha256)),
            authData: Type.Optional(AuthData),
            OTP: Type.Optional(Str(20)),
            PIN: Type.Optional(Str(300)),
            description: Type.Optional(Type.String({ maxLength: 500 })),
            clientData: ClientData,
          },
          strict,
        ),
        response: { 200: Type.Object({ SAD: Type.String(), expiresIn: Type.Integer() }) },
      },
    },
    async (req) => {
      const who = await signer(req);
      const b = req.body as {
        credentialID: string;
        numSignatures: number;
        hashes: string[];
        authData?: { id: string; value: string }[];
        OTP?: string;
        PIN?: string;
      };
      const fromData = (id: string) => b.authData?.find((d) => d.id === id)?.value;
      const otp = fromData('OTP') ?? b.OTP;
      const pin = fromData('PIN') ?? b.PIN;
      const r = await deps.db.platform((tx) =>
        authorizeDemoCredential(tx, cscDeps, who, {
          credentialId: b.credentialID,
          numSignatures: b.numSignatures,
          hashes: b.hashes,
          secondFactor: { ...(otp ? { otp } : {}), ...(pin ? { pin } : {}) },
        }),
      );
      if (!r.ok)
        throw new AppError(
          r.code,
          r.message,
          cscError(r.code === 'CSC_PIN_INVALID' ? 'invalid_pin' : 'invalid_otp', r.message),
        );
      return { SAD: r.sad, expiresIn: r.expiresIn };
    },
  );

  app.post(
    `${CSC_BASE_PATH}/signatures/signHash`,
    {
      schema: {
        tags: ['csc'],
        summary:
          'CSC v2 signatures/signHash: RSA PKCS#1 v1.5 signatures of SHA-256 hashes, with a SAD (once)',
        description:
          '`signAlgo` 1.2.840.113549.1.1.11 (sha256WithRSAEncryption), or 1.2.840.113549.1.1.1 with `hashAlgorithmOID` 2.16.840.1.101.3.4.2.1. 400 CSC_SAD_USED, CSC_SAD_EXPIRED, CSC_SAD_INVALID (other credential or hashes).',
        body: Type.Object(
          {
            credentialID: Str(100),
            SAD: Str(200),
            hashes: Hashes,
            hashAlgorithmOID: Type.Optional(Str(100)),
            signAlgo: Str(100),
            signAlgoParams: Type.Optional(Type.String({ maxLength: 1000 })),
            operationMode: Type.Optional(Type.Literal('S')),
            clientData: ClientData,
          },
          strict,
        ),
        response: { 200: Type.Object({ signatures: Type.Array(Type.String()) }) },
      },
    },
    async (req) => {
      const who = await signer(req);
      const b = req.body as {
        credentialID: string;
        SAD: string;
        hashes: string[];
        hashAlgorithmOID?: string;
        signAlgo: string;
      };
      const sign = await deps.db.platform((tx) =>
        consumeSad(tx, cscDeps, who, {
          credentialId: b.credentialID,
          sad: b.SAD,
          hashes: b.hashes,
          signAlgo: b.signAlgo,
          hashAlgo: b.hashAlgorithmOID,
        }),
      );
      // Signing happens after the commit that consumed the SAD (no slow work in a transaction).
      return { signatures: sign() };
    },
  );
}
