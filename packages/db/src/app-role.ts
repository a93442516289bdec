import { sql, type Kysely } from 'kysely';
import type { Database } from './database';

/**
 * The role the service's functions sign in as: it may read, add and change rows, never delete
 * them or change the schema. Only the migrate function signs in as the owner.
 */
export const APP_ROLE = 'media_app';

/**
 * Sets the app role's password (AWS: the value of its Secrets Manager secret, which the RDS Proxy
 * signs in with) and makes sure it may sign in. The statement is built by `format` on the server,
 * so the name and the password are quoted by PostgreSQL itself; neither appears in any log.
 */
export async function setAppRolePassword(db: Kysely<Database>, password: string, role: string = APP_ROLE): Promise<void> {
  if (!password) throw new Error(`no password to set for the ${role} role`);
  const { rows } = await sql<{
    statement: string;
  }>`select format('ALTER ROLE %I WITH LOGIN PASSWORD %L', ${role}::text, ${password}::text) as statement`.execute(db);
  await sql.raw(rows[0]!.statement).execute(db);
}
