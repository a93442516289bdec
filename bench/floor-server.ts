import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import pg from 'pg';
import { createTokenVerifier, loadConfig, newMediaId, UPLOAD_URL_TTL_SECONDS } from '@media/core';
import { hasPersonalCap } from '@media/service';
import { MediaStorage, incomingKey } from '@media/storage';

/**
 * The floors: what a request costs with nothing of the service around it.
 *
 * - `POST /v1/uploads`: only the unavoidable work (JWT check, presign, one INSERT), nothing else
 *   (no limits, no quota, no counters, no validation beyond reading the body). It inserts into
 *   `bench_floor_media`, a copy of `media` with the same columns and indexes but none of its rows
 *   or triggers (the bench creates it).
 * - `POST /v1/uploads/reserved`: the same, but the one statement is the service's own reservation
 *   (`media_reserve_uploads` on `media`: the insert, the counters, the limits), with the rows and
 *   limits the service sends. What it leaves of the bare floor is the most any service keeping
 *   those guarantees could reach on this machine; the service against it is what its own layers
 *   (adapter, middleware, validation, query builder) cost.
 * - `GET /v1/usage`: the JWT check and then the bytes of a kept usage answer (read from the file
 *   `FLOOR_USAGE_ANSWER`, the service's own answer fetched by the bench): the least a usage answer
 *   can cost here.
 *
 * Commits are durable (synchronous_commit on), as the service's are.
 */
const env = process.env;
const verify = createTokenVerifier({ secret: env.MEDIA_JWT_SECRET ?? 'local-dev-secret' });
// The service's limits, from the same settings and defaults it reads them from.
const { limits } = loadConfig({ MEDIA_BUCKET: 'media-local', ...env });
const storage = new MediaStorage({
  bucket: 'media-local',
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});
// Commits wait for the WAL flush, as the service's reservations do: the same durability on both sides.
const pool = new pg.Pool({
  connectionString: env.DATABASE_URL,
  max: Number(env.MEDIA_DB_POOL_SIZE ?? 10),
  options: '-c synchronous_commit=on',
});
const usageAnswer = env.FLOOR_USAGE_ANSWER ? readFileSync(env.FLOOR_USAGE_ANSWER) : Buffer.from('{}');

async function upload(authorization: string | undefined, body: Buffer, reserved: boolean): Promise<string> {
  const principal = await verify(authorization);
  const request = JSON.parse(body.toString('utf8')) as { purpose: 'general'; contentType: string; size: number };
  const id = newMediaId();
  const upload = await storage.presignUpload({
    key: incomingKey(principal.tenant, id),
    contentType: request.contentType,
    maxBytes: request.size,
    expiresInSeconds: UPLOAD_URL_TTL_SECONDS,
  });
  if (reserved) {
    // The row as the service's reservation writes it (its SQL column names), and its limits.
    const row = {
      id,
      tenant: principal.tenant,
      purpose: request.purpose,
      classroom_id: null,
      uploaded_by: principal.sub,
      content_type: request.contentType,
      declared_size: request.size,
      filename: null,
      kind: 'image',
      multipart_upload_id: null,
      part_size: null,
      part_count: null,
      subject_id: null,
      upload_expires_at: upload.expiresAt,
    };
    await pool.query('select media_reserve_uploads($1::jsonb, $2::bigint, $3::bigint, $4::integer)', [
      JSON.stringify([row]),
      limits.tenantQuotaBytes,
      hasPersonalCap(principal) ? limits.personQuotaBytes : null,
      limits.maxPendingUploads[request.purpose],
    ]);
  } else {
    await pool.query(
      `insert into bench_floor_media (id, tenant, purpose, status, uploaded_by, content_type, declared_size, upload_expires_at, variants)
       values ($1, $2, $3, 'pending', $4, $5, $6, $7, '[]')`,
      [id, principal.tenant, request.purpose, principal.sub, request.contentType, request.size, upload.expiresAt],
    );
  }
  return JSON.stringify({ mediaId: id, upload, expiresAt: upload.expiresAt, maxBytes: request.size });
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      try {
        if (req.method === 'GET') {
          await verify(req.headers.authorization);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(usageAnswer);
          return;
        }
        const answer = await upload(req.headers.authorization, Buffer.concat(chunks), req.url === '/v1/uploads/reserved');
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(answer);
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      }
    })();
  });
});
server.listen(Number(env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`floor listening on ${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
