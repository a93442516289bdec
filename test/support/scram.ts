import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';

/**
 * Whether a SCRAM-SHA-256 verifier (`pg_authid.rolpassword`) was made from a password: the test
 * server trusts every local sign-in, so a password is checked against its stored verifier instead
 * (RFC 5802: StoredKey = H(HMAC(PBKDF2(password, salt, i), "Client Key"))).
 */
export function scramVerifies(verifier: string, password: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!match) return false;
  const [, iterations, salt, storedKey] = match;
  const salted = pbkdf2Sync(password, Buffer.from(salt!, 'base64'), Number(iterations), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return createHash('sha256').update(clientKey).digest('base64') === storedKey;
}
