import { SignJWT } from 'jose';
import { DEFAULT_LOCAL_SECRET } from '@media/core';

export { DEFAULT_LOCAL_SECRET };

export interface DevTokenClaims {
  role: 'student' | 'teacher' | 'admin' | 'service';
  tenant: string;
  sub: string;
  classrooms?: string[];
  /** Lifetime in seconds. */
  ttl?: number;
  issuer?: string;
  audience?: string;
}

/** HS256 tokens for the local stack and tests; AWS verifies real identity-provider tokens instead. */
export async function mintDevToken(claims: DevTokenClaims, secret: string = DEFAULT_LOCAL_SECRET): Promise<string> {
  let jwt = new SignJWT({ tenant: claims.tenant, role: claims.role, classrooms: claims.classrooms ?? [] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(`${claims.ttl ?? 12 * 3600}s`);
  if (claims.issuer) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
