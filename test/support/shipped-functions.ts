import { join } from 'node:path';
import { type Emulator, runtimeEnvironment, type StartOptions, type SynthesizedFunction } from '@media/artifacts';
import { LOCAL_S3_CREDENTIALS, startS3Server, type S3Server } from '@media/local';
import { MediaStorage } from '@media/storage';
import { appDatabaseUrl } from './database';

/** The S3 server a started bundle reads and writes, and the test's own client of the same bucket. */
export interface LocalBucket {
  s3: S3Server;
  bucket: string;
  storage(): MediaStorage;
}

/** An S3 server holding one bucket in a folder of the test's (`<workDir>/s3`). */
export async function startLocalBucket(workDir: string, bucket: string): Promise<LocalBucket> {
  const s3 = await startS3Server({
    directory: join(workDir, 's3'),
    host: '127.0.0.1',
    port: 0,
    bucket,
    allowedOrigins: ['http://localhost:*'],
  });
  return {
    s3,
    bucket,
    storage: () =>
      new MediaStorage({ bucket, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: LOCAL_S3_CREDENTIALS }),
  };
}

/**
 * The environment of a shipped function that uses the bucket and the database: its template's,
 * with what the deploy fills in (`deployTime`, the bucket and the database given) and what only
 * this machine needs (`local`: the S3 endpoint and its credentials, metrics off).
 */
export function dataPlaneEnvironment(
  fn: SynthesizedFunction,
  services: { bucket: LocalBucket; databaseUrl: string },
  deployTime: Record<string, string> = {},
  local: Record<string, string> = {},
): Record<string, string> {
  return runtimeEnvironment(
    fn,
    { MEDIA_BUCKET: services.bucket.bucket, DATABASE_URL: appDatabaseUrl(services.databaseUrl), MEDIA_DB_IAM_AUTH: 'false', ...deployTime },
    {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      MEDIA_S3_ENDPOINT: services.bucket.s3.endpoint,
      MEDIA_S3_FORCE_PATH_STYLE: 'true',
      MEDIA_JWT_SECRET: `not-used-by-${fn.name}`,
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...local,
    },
  );
}

/**
 * How a bundle starts under the arm64 emulator: every instruction emulated, so module init takes
 * seconds to tens of seconds on a loaded machine where Lambda's arm64 takes well under one.
 */
export const underEmulation = (emulator: Emulator): Pick<StartOptions, 'execPath' | 'execArgv' | 'initTimeoutMs'> => ({
  execPath: emulator.execPath,
  execArgv: emulator.execArgv,
  initTimeoutMs: 300_000,
});
