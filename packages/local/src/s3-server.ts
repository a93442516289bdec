import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';

export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3ServerOptions {
  directory: string;
  host: string;
  port: number;
  bucket: string;
  /** Origins a browser may POST from; `*` once per origin as in S3's own CORS rules. */
  allowedOrigins: string[];
}

export interface S3EventRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number } };
}

export interface S3Server {
  endpoint: string;
  onEvent(listener: (record: S3EventRecord) => void): void;
  stop(): Promise<void>;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function corsXml(origins: string[]): string {
  const rules = origins
    .map(
      (origin) => `<CORSRule>
    <AllowedOrigin>${escapeXml(origin)}</AllowedOrigin>
    <AllowedMethod>POST</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>`,
    )
    .join('\n');
  return `<CORSConfiguration>${rules}</CORSConfiguration>`;
}

/**
 * s3rver on disk: serves browser POSTs and emits S3 event records. Of a presigned URL it checks only
 * the expiry of a GET: not the signature (a URL signed with any secret, or with its signature
 * changed, is served), nor a POST's policy (its conditions or its expiry). The processor re-checks
 * the real object itself; AWS checks both, LocalStack the POST policy only.
 */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: options.host,
    port: options.port,
    silent: true,
    directory: options.directory,
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket, configs: [corsXml(options.allowedOrigins)] }],
  });
  const address = await server.run();
  return {
    endpoint: `http://${options.host}:${address.port}`,
    onEvent(listener) {
      server.on('event', (event) => event.Records.forEach(listener));
    },
    async stop() {
      await server.close();
    },
  };
}
