import { SignJWT, errors, jwtVerify, type JWTHeaderParameters } from 'jose';
import { z } from 'zod';
import type { Config } from '../core/config';
import { unauthenticated, unavailable } from '../core/errors';
import { base64url } from './secrets';

/*
 * Access tokens: HS256 JWTs with iss, aud, iat, exp (at most an hour) and a `kid` derived from
 * the secret. To rotate, set a new JWT_SECRET and move the old one to JWT_PREVIOUS_SECRETS:
 * tokens signed with it keep verifying (by kid) until they expire, new ones use the new key.
 */

interface Keyring {
  signing: { kid: string; key: Uint8Array } | undefined;
  byKid: Map<string, Uint8Array>;
}

const encoder = new TextEncoder();
const rings = new WeakMap<Config, Promise<Keyring>>();

/** A public label for a secret: a hash prefix, so no kid has to be configured by hand. */
async function kidOf(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(`modelflare-jwt-kid:${secret}`));
  return base64url(new Uint8Array(digest).slice(0, 9));
}

function keyring(config: Config): Promise<Keyring> {
  let ring = rings.get(config);
  if (!ring) {
    ring = (async () => {
      const secrets = [config.JWT_SECRET, ...config.JWT_PREVIOUS_SECRETS].filter((s): s is string => !!s);
      const entries = await Promise.all(secrets.map(async (s) => [await kidOf(s), encoder.encode(s)] as const));
      return {
        signing: config.JWT_SECRET ? { kid: entries[0]![0], key: entries[0]![1] } : undefined,
        byKid: new Map(entries),
      };
    })();
    rings.set(config, ring);
  }
  return ring;
}

const MAX_TOKEN_AGE_SECONDS = 3600;

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

/** User accounts need a signing key; without one only ADMIN_API_KEY and API keys work. */
export function requireAccounts(config: Config): void {
  if (!config.JWT_SECRET) throw unavailable('user accounts are not configured on this server (JWT_SECRET is not set)');
}

export async function signAccessToken(
  config: Config,
  claims: AccessClaims,
): Promise<{ token: string; expiresIn: number }> {
  requireAccounts(config);
  const signing = (await keyring(config)).signing!;
  const expiresIn = Math.min(config.ACCESS_TOKEN_TTL_SECONDS, MAX_TOKEN_AGE_SECONDS);
  const token = await new SignJWT({ sid: claims.sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: signing.kid })
    .setSubject(claims.userId)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${expiresIn}s`)
    .sign(signing.key);
  return { token, expiresIn };
}

const Claims = z.object({ sub: z.string().min(1), sid: z.string().min(1) });

/**
 * Verifies signature, algorithm (HS256 only: `none` and every other algorithm are refused),
 * issuer, audience, expiry and age. Every failure is unauthenticated; expiry says so, so that
 * clients know to refresh.
 */
export async function verifyAccessToken(config: Config, token: string): Promise<AccessClaims> {
  const { byKid } = await keyring(config);
  try {
    const { payload } = await jwtVerify(
      token,
      (header: JWTHeaderParameters) => {
        const key = header.kid === undefined ? undefined : byKid.get(header.kid);
        if (!key) throw new errors.JWSSignatureVerificationFailed('unknown key id');
        return key;
      },
      {
        algorithms: ['HS256'],
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        requiredClaims: ['exp', 'iat', 'sub'],
        maxTokenAge: MAX_TOKEN_AGE_SECONDS,
      },
    );
    const claims = Claims.safeParse(payload);
    if (!claims.success) throw new errors.JWTClaimValidationFailed('missing sub or sid', payload);
    return { userId: claims.data.sub, sessionId: claims.data.sid };
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
