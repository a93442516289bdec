import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { APIGatewayProxyStructuredResultV2, CloudFormationCustomResourceEvent, SQSBatchResponse } from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hostRunnableFunctions,
  runtimeEnvironment,
  startFunction,
  synthesizedApp,
  synthesizedFunctions,
  type PreparedFunction,
  type StartedFunction,
} from '@media/artifacts';
import { API_ROUTES } from '@media/core';
import { REPO_ROOT } from '../../infra/lib/repo';
import { appDatabaseUrl, scratchDatabase, uniqueTenant, withClient, type ScratchDatabase } from '../support/database';
import { httpApiEvent } from '../support/http-api-event';

const ISSUER = 'https://id.school.example/';
const AUDIENCE = 'media-service';
const API_FUNCTIONS = ['request-upload', 'get-download', 'media-api'] as const;

/**
 * What `cdk deploy` ships, started the way Lambda starts it: `cdk synth` bundles every function
 * for real; each asset is copied alone into an empty folder and imported by Node 24 in a process
 * of its own, with exactly the environment its template gives it (deploy-time references filled
 * in), then invoked with the events AWS sends. The processing functions get sharp for this
 * machine's CPU, installed by the same command that installs Lambda's.
 */
describe('the synthesized functions, started from their assets as Lambda starts them', () => {
  let assembly: string;
  let functions: PreparedFunction[];
  let identityProvider: Server;
  let jwksUrl: string;
  let privateKey: CryptoKey;
  const started = new Map<string, StartedFunction>();
  const tenant = uniqueTenant();
  // A database of its own, schema'd by the migrate function itself: the sweeper acts on every row it sees.
  let scratch: ScratchDatabase;
  let databaseUrl: string;
  let migrated: { PhysicalResourceId: string; Data: { Applied: string } };
  const customResourceEvent = (RequestType: string) =>
    ({ RequestType, PhysicalResourceId: 'media-schema' }) as unknown as CloudFormationCustomResourceEvent;

  const fn = (name: string) => {
    const found = functions.find((f) => f.name === name);
    if (!found) throw new Error(`no function ${name} in the cloud assembly`);
    return found;
  };

  /** What CloudFormation resolves at deploy time, pointed at this machine's stand-ins. */
  const deployTime = (name: string) => ({
    MEDIA_BUCKET: 'media-artifact-test',
    // As deployed: the functions sign in as the DML-only role, only migrate as the owner.
    DATABASE_URL: name === 'migrate' ? databaseUrl : appDatabaseUrl(databaseUrl),
    // RDS Proxy's IAM sign-in has no stand-in here: the test server trusts loopback instead.
    MEDIA_DB_IAM_AUTH: 'false',
    MEDIA_EVENTS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:media-events',
    MEDIA_JWT_JWKS_URL: jwksUrl,
    MEDIA_JWT_ISSUER: ISSUER,
    MEDIA_JWT_AUDIENCE: AUDIENCE,
  });
  const lambdaRuntime = {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };

  /** A function from its asset, with the template's environment (and any setting of the test's beside it). */
  const launch = (name: string, settings: Record<string, string> = {}) => {
    const f = fn(name);
    return startFunction({
      dir: f.dir,
      handler: f.handler,
      functionName: f.name,
      memorySize: f.memorySize,
      timeoutSeconds: f.timeoutSeconds,
      environment: runtimeEnvironment(f, deployTime(name), { ...lambdaRuntime, ...settings }),
    });
  };
  const start = async (name: string) => {
    const running = await launch(name);
    started.set(name, running);
    return running;
  };

  const token = (claims: Record<string, unknown>, sub: string) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);

  beforeAll(async () => {
    assembly = await synthesizedApp({ repoRoot: REPO_ROOT });
    functions = await hostRunnableFunctions(assembly);

    // The identity provider's JWKS endpoint, as the deployed functions fetch it.
    const keys = await generateKeyPair('ES256');
    privateKey = keys.privateKey;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    identityProvider = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => identityProvider.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(identityProvider.address() as AddressInfo).port}/.well-known/jwks.json`;

    scratch = await scratchDatabase('artifacts');
    databaseUrl = scratch.url;
    migrated = await (await start('migrate')).invoke(customResourceEvent('Create'));
  }, 600_000);

  afterAll(async () => {
    await Promise.all([...started.values()].map((f) => f.stop()));
    identityProvider?.close();
    await scratch?.drop();
  });

  it('synthesizes every function of the service, each with its own asset', () => {
    expect(
      synthesizedFunctions(assembly)
        .map((f) => f.name)
        .sort(),
    ).toEqual([
      'detect-faces',
      'get-download',
      'media-api',
      'migrate',
      'process-upload',
      'process-video',
      'request-upload',
      'sweeper',
      'transform-video',
    ]);
    for (const f of functions) expect(f, f.name).toMatchObject({ runtime: 'nodejs24.x', architecture: 'arm64', handler: 'index.handler' });
  });

  it('bundles no image pipeline into the API and migrate functions, sharp for Lambda into the processing ones, and ffmpeg into the transform one alone', () => {
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8'));
    for (const f of synthesizedFunctions(assembly)) {
      const bundle = readFileSync(join(f.assetDir, 'index.mjs'), 'utf8');
      // The pinned ffmpeg and ffprobe: the transform function's alone.
      expect(existsSync(join(f.assetDir, 'video-tools.tar.gz')), `${f.name} ships the video tools`).toBe(f.name === 'transform-video');
      // The face stage's networks and TensorFlow's .wasm files: detect-faces's alone (test/artifacts/detect-faces-bundle.test.ts runs it).
      expect(existsSync(join(f.assetDir, 'face-models')), `${f.name} ships the face models`).toBe(f.name === 'detect-faces');
      if (['process-upload', 'process-video', 'sweeper', 'detect-faces'].includes(f.name)) {
        const shipped = JSON.parse(readFileSync(join(f.assetDir, 'package.json'), 'utf8'));
        expect(shipped.dependencies, f.name).toEqual({
          sharp: lock.packages['node_modules/sharp'].version,
          'heic-decode': lock.packages['node_modules/heic-decode'].version,
          'libheif-js': lock.packages['node_modules/libheif-js'].version,
        });
        expect(readFileSync(join(f.assetDir, 'node_modules', '@img', 'sharp-linux-arm64', 'package.json'), 'utf8'), f.name).toContain(
          '"cpu"',
        );
        // libheif and libde265 (LGPL-3.0) ship as their own WASM file, loaded at run time, not inside the bundle.
        expect(
          existsSync(join(f.assetDir, 'node_modules', 'libheif-js', 'libheif-wasm', 'libheif.wasm')),
          `${f.name} ships libheif.wasm`,
        ).toBe(true);
        expect(bundle, `${f.name} does not compile libheif in`).not.toContain('HeifDecoder');
      } else {
        expect(bundle, `${f.name} carries sharp's loader`).not.toMatch(/Could not load the "sharp" module/);
        expect(bundle, `${f.name} carries libvips bindings`).not.toContain('sharp-linux');
      }
    }
  });

  it.each(API_FUNCTIONS)('%s starts from its asset alone and refuses a request without a token (401 problem+json)', async (name) => {
    const running = await start(name);
    expect(running.initMs).toBeGreaterThan(0);
    const routes = API_ROUTES.filter((route) => route.fn === name && !('public' in route));
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      const path = route.path.replace('{id}', '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b');
      const answer = await running.invoke<APIGatewayProxyStructuredResultV2>(
        httpApiEvent(route.method, path, { body: route.method === 'GET' ? undefined : {} }),
      );
      expect(answer.statusCode, `${route.method} ${route.path}`).toBe(401);
      expect(answer.headers?.['content-type']).toBe('application/problem+json');
      expect(JSON.parse(answer.body ?? '{}')).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    }
  });

  it('media-api answers /health and /openapi.json without a token', async () => {
    const running = started.get('media-api') ?? (await start('media-api'));
    const health = await running.invoke<APIGatewayProxyStructuredResultV2>(httpApiEvent('GET', '/health'));
    expect(health).toMatchObject({ statusCode: 200, body: '{"status":"ok"}' });
    const contract = await running.invoke<APIGatewayProxyStructuredResultV2>(httpApiEvent('GET', '/openapi.json'));
    expect(contract.statusCode).toBe(200);
    expect(JSON.parse(contract.body ?? '{}').openapi).toMatch(/^3\.1/);
  });

  it('request-upload takes a token from the identity provider (JWKS) and writes a pending row', async () => {
    const running = started.get('request-upload') ?? (await start('request-upload'));
    const bearer = await token({ role: 'teacher', tenant, classrooms: ['c-1'] }, 't-1');
    const answer = await running.invoke<APIGatewayProxyStructuredResultV2>(
      httpApiEvent('POST', '/v1/uploads', {
        headers: { authorization: `Bearer ${bearer}` },
        body: { purpose: 'attendance', classroomId: 'c-1', contentType: 'image/jpeg', size: 100_000 },
      }),
    );
    expect(answer.statusCode, answer.body).toBe(201);
    const ticket = JSON.parse(answer.body ?? '{}');
    expect(ticket.upload.url).toContain('media-artifact-test');
    const { rows } = await withClient(databaseUrl, (c) => c.query('select status, tenant from media where id = $1', [ticket.mediaId]));
    expect(rows).toEqual([{ status: 'pending', tenant }]);
    // The bundle says what is wrong in English, as the sources do (zod's mini API loads no locale of its own).
    const refused = await running.invoke<APIGatewayProxyStructuredResultV2>(
      httpApiEvent('POST', '/v1/uploads', {
        headers: { authorization: `Bearer ${bearer}` },
        body: { purpose: 'attendance', classroomId: 'c-1', contentType: 'image/jpeg', size: 0 },
      }),
    );
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body ?? '{}').issues).toEqual([{ path: 'body.size', message: 'Too small: expected number to be >0' }]);
  });

  it('get-download answers 404 for media that does not exist', async () => {
    const running = started.get('get-download') ?? (await start('get-download'));
    const bearer = await token({ role: 'admin', tenant }, 'a-1');
    const answer = await running.invoke<APIGatewayProxyStructuredResultV2>(
      httpApiEvent('GET', '/v1/media/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/download', { headers: { authorization: `Bearer ${bearer}` } }),
    );
    expect(answer.statusCode).toBe(404);
    expect(JSON.parse(answer.body ?? '{}').code).toBe('NOT_FOUND');
  });

  it('process-upload starts with sharp for this machine and answers a batch item by item', async () => {
    const running = await start('process-upload');
    // S3's test notification on subscribe, and a record that names nothing of ours: neither is a failure.
    const answer = await running.invoke<SQSBatchResponse>({
      Records: [
        { messageId: 'm-1', body: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'media-artifact-test' }) },
        { messageId: 'm-2', body: 'not json' },
      ],
    });
    expect(answer).toEqual({ batchItemFailures: [] });
  });

  it('the sweeper starts with sharp for this machine and finishes a run', async () => {
    const running = await start('sweeper');
    const report = await running.invoke<Record<string, number>>({});
    expect(report).toMatchObject({ failed: 0 });
  });

  it('migrate ran the migrations on the empty database as the custom resource, is a no-op again, and leaves them on delete', async () => {
    expect(migrated.PhysicalResourceId).toBe('media-schema');
    expect(migrated.Data.Applied).toContain('0001-media');
    const running = started.get('migrate')!;
    expect((await running.invoke<{ Data: { Applied: string } }>(customResourceEvent('Update'))).Data.Applied).toBe('none');
    await running.invoke(customResourceEvent('Delete'));
    const { rows } = await withClient(databaseUrl, (c) =>
      c.query(`select count(*)::int as n from information_schema.tables where table_name = 'media'`),
    );
    expect(rows[0].n).toBe(1);
  });

  it('migrate refuses an audit retention under the floor before touching the schema, saying why in English', async () => {
    const running = await launch('migrate', { MEDIA_AUDIT_RETENTION_DAYS: '5' });
    try {
      await expect(running.invoke(customResourceEvent('Update'))).rejects.toThrow(
        'MEDIA_AUDIT_RETENTION_DAYS: Too small: expected number to be >=30',
      );
    } finally {
      await running.stop();
    }
  });
});
