import { createServer } from 'node:http';
import pg from 'pg';
import { createTokenVerifier, newMediaId, UPLOAD_URL_TTL_SECONDS } from '@media/core';
import { MediaStorage, incomingKey } from '@media/storage';

/**
 * The floor: `POST /v1/uploads` doing only the unavoidable work (JWT check, presign, one INSERT),
 * nothing else (no limits, no quota, no counters, no validation beyond reading the body). It
 * inserts into `bench_floor_media`, a copy of `media` with the same columns and indexes but none of
 * its triggers (the bench creates it). The API bench runs the same load against it, side by side
 * with the service, to see what the service adds. Its commits are durable (synchronous_commit on),
 * as the service's are.
 */
const env = process.env;
const verify = createTokenVerifier({ secret: env.MEDIA_JWT_SECRET ?? 'local-dev-secret' });
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

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      try {
        const principal = await verify(req.headers.authorization);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { purpose: string; contentType: string; size: number };
        const id = newMediaId();
        const upload = await storage.presignUpload({
          key: incomingKey(principal.tenant, id),
          contentType: body.contentType,
          maxBytes: body.size,
          expiresInSeconds: UPLOAD_URL_TTL_SECONDS,
        });
        await pool.query(
          `insert into bench_floor_media (id, tenant, purpose, status, uploaded_by, content_type, declared_size, upload_expires_at, variants)
           values ($1, $2, $3, 'pending', $4, $5, $6, $7, '[]')`,
          [id, principal.tenant, body.purpose, principal.sub, body.contentType, body.size, upload.expiresAt],
        );
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ mediaId: id, upload, expiresAt: upload.expiresAt, maxBytes: body.size }));
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
