import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, SignJWT, type JWK } from 'jose';
import type { DevTokenClaims } from './dev-token';

/**
 * Tokens as a real identity provider signs them (docs/access-control.md § The token contract):
 * RS256 or ES256 with a `kid`, verified by the service against a JWKS. For a test issuer before a
 * deploy, or `npm run smoke`: the private key stays on the machine, the JWKS is what gets hosted.
 */
export interface SigningKey {
  key: KeyObject;
  alg: 'RS256' | 'ES256';
  kid: string;
  publicJwk: JWK;
}

export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
}

/** A PKCS#8 or traditional PEM private key: RSA (RS256) or EC P-256 (ES256); the `kid` defaults to its JWK thumbprint. */
export async function signingKeyOf(pem: string, kid?: string): Promise<SigningKey> {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new SigningKeyError('the file is not a PEM private key (make one with openssl genpkey, docs/access-control.md)');
  }
  let alg: SigningKey['alg'];
  if (key.asymmetricKeyType === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new SigningKeyError('an RSA key must have at least 2048 bits');
    alg = 'RS256';
  } else if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    alg = 'ES256';
  } else {
    throw new SigningKeyError(
      `the service verifies RS256 and ES256 only: an RSA key or an EC key on P-256, not ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''}`,
    );
  }
  const publicJwk = createPublicKey(key).export({ format: 'jwk' }) as JWK;
  return { key, alg, kid: kid ?? (await calculateJwkThumbprint(publicJwk)), publicJwk };
}

/** The JWKS to host at the issuer's `jwks_uri` (MEDIA_JWT_JWKS_URL, `media:jwtJwksUrl`). */
export function jwksOf(signing: SigningKey): { keys: JWK[] } {
  return { keys: [{ ...signing.publicJwk, kid: signing.kid, alg: signing.alg, use: 'sig' }] };
}

/** A token with the claims the service requires, signed with the key, `kid` in its header. */
export async function mintIssuerToken(claims: DevTokenClaims, signing: SigningKey): Promise<string> {
  let jwt = new SignJWT({ tenant: claims.tenant, role: claims.role, classrooms: claims.classrooms ?? [] })
    .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(`${claims.ttl ?? 3600}s`);
  if (claims.issuer) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(signing.key);
}
