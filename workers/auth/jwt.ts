import {
  SignJWT,
  calculateJwkThumbprint,
  errors,
  importJWK,
  jwtVerify,
  type JWK,
  type JWTHeaderParameters,
} from 'jose';
import { z } from 'zod';
import type { Config } from '../core/config';
import { unauthenticated, unavailable } from '../core/errors';
import { base64url } from './secrets';

/*
 * Access tokens: JWTs with iss, aud, iat, exp (at most an hour) and a `kid`, signed either
 * with a shared secret (JWT_SECRET, HS256) or with an Ed25519 key pair (JWT_PRIVATE_KEY,
 * EdDSA), whose public half anyone can fetch from /.well-known/jwks.json to verify tokens
 * without holding a secret. To rotate, sign with the new key and keep the old one verifying:
 * a former secret in JWT_PREVIOUS_SECRETS, a former key pair's public JWK in
 * JWT_PREVIOUS_PUBLIC_KEYS. Tokens are matched to keys by kid, and each key verifies only its
 * own algorithm.
 */

type Alg = 'HS256' | 'EdDSA';
type Key = Uint8Array | CryptoKey;

interface Verifier {
  alg: Alg;
  key: Key;
}

interface Keyring {
  signing: { kid: string; alg: Alg; key: Key } | undefined;
  byKid: Map<string, Verifier>;
  /** The public keys of the EdDSA pairs, as published at /.well-known/jwks.json. */
  publicJwks: JWK[];
}

const encoder = new TextEncoder();
const rings = new WeakMap<Config, Promise<Keyring>>();

/** A public label for a secret: a hash prefix, so no kid has to be configured by hand. */
async function kidOfSecret(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(`modelflare-jwt-kid:${secret}`));
  return base64url(new Uint8Array(digest).slice(0, 9));
}

/** Only the public members: a private JWK's `d` must never reach a JWKS or a thumbprint. */
const publicPart = ({ kty, crv, x }: JWK): JWK => ({ kty, crv, x });

async function publicEntry(jwk: JWK): Promise<[string, Verifier, JWK]> {
  const pub = publicPart(jwk);
  const kid = await calculateJwkThumbprint(pub);
  return [
    kid,
    { alg: 'EdDSA', key: (await importJWK(pub, 'EdDSA')) as CryptoKey },
    { ...pub, kid, alg: 'EdDSA', use: 'sig' },
  ];
}

async function buildKeyring(config: Config): Promise<Keyring> {
  const secrets = [config.JWT_SECRET, ...config.JWT_PREVIOUS_SECRETS].filter((s): s is string => !!s);
  const secretEntries = await Promise.all(
    secrets.map(async (s) => [await kidOfSecret(s), { alg: 'HS256', key: encoder.encode(s) }] as const),
  );
  const pairs: JWK[] = [
    ...(config.JWT_PRIVATE_KEY ? [config.JWT_PRIVATE_KEY] : []),
    ...config.JWT_PREVIOUS_PUBLIC_KEYS,
  ];
  const pairEntries = await Promise.all(pairs.map(publicEntry));
  const byKid = new Map<string, Verifier>([...secretEntries, ...pairEntries.map(([kid, v]) => [kid, v] as const)]);
  let signing: Keyring['signing'];
  if (config.JWT_PRIVATE_KEY) {
    const key = (await importJWK(config.JWT_PRIVATE_KEY, 'EdDSA')) as CryptoKey;
    signing = { kid: pairEntries[0]![0], alg: 'EdDSA', key };
  } else if (config.JWT_SECRET) {
    signing = { kid: secretEntries[0]![0], alg: 'HS256', key: secretEntries[0]![1].key };
  }
  return { signing, byKid, publicJwks: pairEntries.map(([, , jwk]) => jwk) };
}

function keyring(config: Config): Promise<Keyring> {
  let ring = rings.get(config);
  if (!ring) {
    ring = buildKeyring(config);
    rings.set(config, ring);
  }
  return ring;
}

const MAX_TOKEN_AGE_SECONDS = 3600;

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

/** Verified claims, with when the token stops being valid (its `exp`, or its maximum age). */
export interface VerifiedClaims extends AccessClaims {
  validUntil: number;
}

/** User accounts need a signing key; without one only ADMIN_API_KEY and API keys work. */
export function requireAccounts(config: Config): void {
  if (!config.JWT_SECRET && !config.JWT_PRIVATE_KEY) {
    throw unavailable(
      'user accounts are not configured on this server (neither JWT_SECRET nor JWT_PRIVATE_KEY is set)',
    );
  }
}

export async function signAccessToken(
  config: Config,
  claims: AccessClaims,
): Promise<{ token: string; expiresIn: number }> {
  requireAccounts(config);
  const signing = (await keyring(config)).signing!;
  const expiresIn = Math.min(config.ACCESS_TOKEN_TTL_SECONDS, MAX_TOKEN_AGE_SECONDS);
  const token = await new SignJWT({ sid: claims.sessionId })
    .setProtectedHeader({ alg: signing.alg, typ: 'JWT', kid: signing.kid })
    .setSubject(claims.userId)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${expiresIn}s`)
    .sign(signing.key);
  return { token, expiresIn };
}

/** The public keys tokens may be verified with (empty when tokens are signed with a shared secret). */
export async function publicKeys(config: Config): Promise<JWK[]> {
  return (await keyring(config)).publicJwks;
}

const Claims = z.object({ sub: z.string().min(1), sid: z.string().min(1) });

/**
 * Verifies signature, algorithm (HS256 or EdDSA, each only with a key of its own kind: `none`
 * and every other algorithm are refused), issuer, audience, expiry and age. Every failure is
 * unauthenticated; expiry says so, so that clients know to refresh.
 */
export async function verifyAccessToken(config: Config, token: string): Promise<VerifiedClaims> {
  const { byKid } = await keyring(config);
  try {
    const { payload } = await jwtVerify(
      token,
      (header: JWTHeaderParameters) => {
        const verifier = header.kid === undefined ? undefined : byKid.get(header.kid);
        if (!verifier || verifier.alg !== header.alg) throw new errors.JWSSignatureVerificationFailed('unknown key id');
        return verifier.key;
      },
      {
        algorithms: ['HS256', 'EdDSA'],
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        requiredClaims: ['exp', 'iat', 'sub'],
        maxTokenAge: MAX_TOKEN_AGE_SECONDS,
      },
    );
    const claims = Claims.safeParse(payload);
    if (!claims.success) throw new errors.JWTClaimValidationFailed('missing sub or sid', payload);
    const validUntil = Math.min(payload.exp! * 1000, (payload.iat! + MAX_TOKEN_AGE_SECONDS) * 1000);
    return { userId: claims.data.sub, sessionId: claims.data.sid, validUntil };
  } catch (err) {
    if (err instanceof errors.JWTExpired) {
      throw unauthenticated('access token expired: get a new one from POST /v1/auth/refresh', {
        code: 'token_expired',
      });
    }
    if (err instanceof errors.JOSEError) throw unauthenticated('invalid access token', { code: 'invalid_token' });
    throw err;
  }
}
