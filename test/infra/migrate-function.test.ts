import { randomBytes } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '@media/functions/migrate';
import { postgresUrl, scratchDatabase, withClient, type ScratchDatabase } from '../support/database';
import { scramVerifies } from '../support/scram';

const event = (RequestType: 'Create' | 'Update' | 'Delete') =>
  ({ RequestType, PhysicalResourceId: 'media-schema' }) as unknown as CloudFormationCustomResourceEvent;

/** As the server's owner, on its default database: roles are server-wide. */
const admin = <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => withClient(postgresUrl(), work);

// Needs a PostgreSQL server: the function never runs against PGlite.
describe('the migrate custom resource function', () => {
  const saved = process.env.DATABASE_URL;
  let scratch: ScratchDatabase;

  beforeAll(async () => {
    scratch = await scratchDatabase('migrate');
    process.env.DATABASE_URL = scratch.url;
  });

  afterAll(async () => {
    process.env.DATABASE_URL = saved;
    await scratch?.drop();
  });

  it('creates the schema of an empty database on create', async () => {
    const result = await handler(event('Create'));
    expect(result.PhysicalResourceId).toBe('media-schema');
    expect(result.Data?.Applied).toMatch(/^0001-media/);
  });

  it('applies nothing on an update when the schema is current', async () => {
    expect(await handler(event('Update'))).toEqual({ PhysicalResourceId: 'media-schema', Data: { Applied: 'none' } });
  });

  it('leaves the schema and its data alone on delete', async () => {
    expect(await handler(event('Delete'))).toEqual({ PhysicalResourceId: 'media-schema' });
    const tables = await withClient(scratch.url, async (c) => {
      const { rows } = await c.query(`select count(*)::int as n from information_schema.tables where table_name = 'media'`);
      return rows[0].n as number;
    });
    expect(tables).toBe(1);
  });

  it('refuses to run without a database URL rather than fall back to an embedded one', async () => {
    const url = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      await expect(handler(event('Create'))).rejects.toThrow(/DATABASE_URL/);
    } finally {
      process.env.DATABASE_URL = url;
    }
  });

  describe("with the app role's secret (AWS)", () => {
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:media-app-AbCdEf';
    // A role of the test's own: the server's media_app is shared with other test runs.
    const role = `media_app_migrate_${randomBytes(4).toString('hex')}`;
    const secrets = mockClient(SecretsManagerClient);

    beforeAll(async () => {
      await admin((c) => c.query(`create role ${role} nologin`));
      process.env.MEDIA_APP_DB_SECRET_ARN = secretArn;
    });
    afterEach(() => secrets.reset());
    afterAll(async () => {
      delete process.env.MEDIA_APP_DB_SECRET_ARN;
      secrets.restore();
      await admin((c) => c.query(`drop role if exists ${role}`));
    });

    it("sets the role's password from the secret, so the proxy can sign in with it", async () => {
      const password = `p'w"${randomBytes(12).toString('hex')}`;
      secrets
        .on(GetSecretValueCommand, { SecretId: secretArn })
        .resolves({ SecretString: JSON.stringify({ username: role, password, engine: 'postgres' }) });
      await handler(event('Update'));
      const { rows } = await admin((c) => c.query(`select rolcanlogin, rolpassword from pg_authid where rolname = $1`, [role]));
      expect(rows[0].rolcanlogin).toBe(true);
      expect(scramVerifies(rows[0].rolpassword, password)).toBe(true);
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    });

    it('fails the deploy with a sentence naming the secret when it cannot read it', async () => {
      secrets
        .on(GetSecretValueCommand)
        .rejects(
          Object.assign(new Error('User is not authorized to perform secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' }),
        );
      await expect(handler(event('Update'))).rejects.toThrow(
        `cannot read the app role's secret ${secretArn} (AccessDeniedException: User is not authorized to perform secretsmanager:GetSecretValue)`,
      );
    });

    it("fails the deploy when the secret holds no password, and never with the secret's value in the message", async () => {
      secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: role, note: 'hunter2' }) });
      const failure = handler(event('Update'));
      await expect(failure).rejects.toThrow(`the app role's secret ${secretArn} has no username and password`);
      await expect(failure).rejects.not.toThrow(/hunter2/);
      secrets.on(GetSecretValueCommand).resolves({ SecretString: 'hunter2' });
      await expect(handler(event('Update'))).rejects.toThrow(/is not the JSON of a database secret$/);
    });
  });
});
