import { Signer } from '@aws-sdk/rds-signer';
import type { PoolConfig } from 'pg';

/**
 * Connection settings for RDS Proxy with IAM authentication: no password in any configuration, a
 * token signed with the function's own role instead. Tokens live 15 minutes and pooled connections
 * outlive them, so pg asks for a fresh one each time it opens a connection. The proxy requires TLS;
 * its certificate chains to the Amazon roots Node.js already trusts, so it is verified.
 */
export function rdsIamConnection(connectionString: string, region: string): PoolConfig {
  const url = new URL(connectionString);
  if (url.password) throw new Error('with IAM authentication the database URL must not carry a password');
  const host = url.hostname;
  const port = Number(url.port || 5432);
  const user = decodeURIComponent(url.username);
  const signer = new Signer({ hostname: host, port, username: user, region });
  return {
    host,
    port,
    user,
    database: decodeURIComponent(url.pathname.slice(1)) || undefined,
    password: () => signer.getAuthToken(),
    ssl: { rejectUnauthorized: true },
  };
}
