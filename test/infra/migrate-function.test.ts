import { randomBytes } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/migrate/handler';
import { postgresUrl } from '../support/database';

const event = (RequestType: 'Create' | 'Update' | 'Delete') =>
  ({ RequestType, PhysicalResourceId: 'media-schema' }) as unknown as CloudFormationCustomResourceEvent;

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

// Needs a PostgreSQL server: the function never runs against PGlite.
describe('the migrate custom resource function', () => {
  const name = `media_migrate_${randomBytes(4).toString('hex')}`;
  const saved = process.env.DATABASE_URL;

  beforeAll(async () => {
    await admin((c) => c.query(`create database ${name}`));
    const url = new URL(postgresUrl());
    url.pathname = `/${name}`;
    process.env.DATABASE_URL = url.toString();
  });

  afterAll(async () => {
    process.env.DATABASE_URL = saved;
    await admin((c) => c.query(`drop database if exists ${name} with (force)`));
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
    const tables = await admin(async (c) => {
      const url = new URL(postgresUrl());
      url.pathname = `/${name}`;
      const db = new pg.Client({ connectionString: url.toString() });
      await db.connect();
      const { rows } = await db.query(`select count(*)::int as n from information_schema.tables where table_name = 'media'`);
      await db.end();
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
});
