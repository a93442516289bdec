import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import {
  hostRunnableFunctions,
  runtimeEnvironment,
  startFunction,
  startInvokeEndpoint,
  synthesizedApp,
  type StartedFunction,
} from '@media/artifacts';
import type { ApiFunctionName } from '@media/core';
import type { Dependencies } from '@media/service';
import type { SweepReport } from '@media/service/processing';
import type { RetentionReport } from '@media/functions/sweeper';
import type { BatchHandler } from './event-pump';
import type { ApiLambda } from './http-server';

/** The functions the local stack runs, whichever form they take. */
export interface LocalFunctions {
  mode: 'sources' | 'artifacts';
  api: Record<ApiFunctionName, ApiLambda>;
  processUpload: BatchHandler;
  /** The video function: the same handler, fed by the video queue, processing the videos it gets. */
  processVideo: BatchHandler;
  sweeper: (event: Record<string, never>, context: Context) => Promise<SweepReport>;
  /** The same function fed by the rights-jobs queue: runs each new erasure or export. */
  rightsJobs: BatchHandler;
  /** The face stage, fed by the face queue (docs/imaging.md § Faces). */
  detectFaces: BatchHandler;
  /** The same function with the daily schedule's input: one retention run. */
  retention: (event: { task: 'retention' }, context: Context) => Promise<RetentionReport>;
  stop(): Promise<void>;
}

/** The TypeScript sources, in this process, sharing the stack's dependencies (the default). */
export async function sourceFunctions(deps: Dependencies): Promise<LocalFunctions> {
  const [requestUpload, getDownload, mediaApi, processUpload, sweeper] = await Promise.all([
    import('@media/functions/request-upload'),
    import('@media/functions/get-download'),
    import('@media/functions/media-api'),
    import('@media/functions/process-upload'),
    import('@media/functions/sweeper'),
  ]);
  return {
    mode: 'sources',
    api: {
      'request-upload': requestUpload.handler.withDependencies(deps),
      'get-download': getDownload.handler.withDependencies(deps),
      'media-api': mediaApi.handler.withDependencies(deps),
    },
    processUpload: processUpload.handler.withDependencies(deps),
    // Without the video queue, as the video function is deployed: it processes what it is given.
    processVideo: processUpload.handler.withDependencies({
      ...deps,
      config: { ...deps.config, processing: { ...deps.config.processing, videoQueueUrl: undefined } },
      videoQueue: undefined,
    }),
    sweeper: sweeper.handler.withDependencies(deps) as LocalFunctions['sweeper'],
    retention: sweeper.handler.withDependencies(deps) as LocalFunctions['retention'],
    rightsJobs: sweeper.handler.withDependencies(deps) as LocalFunctions['rightsJobs'],
    detectFaces: lazyFaceStage(deps),
    stop: async () => {},
  };
}

/** detect-faces, loaded on its first job: face-api and TensorFlow.js stay out of a stack that runs no face stage. */
function lazyFaceStage(deps: Dependencies): BatchHandler {
  let loaded: Promise<BatchHandler> | undefined;
  return async (event, context) => {
    loaded ??= import('@media/functions/detect-faces').then(({ handler }) => handler.withDependencies(deps));
    return (await loaded)(event, context);
  };
}

export interface ArtifactOptions {
  /** Values CloudFormation would fill in (bucket, database, queues) and literals to override. */
  deployTime: Record<string, string | undefined>;
  /** What only the emulators need: endpoints, credentials, the local token secret. */
  local: Record<string, string | undefined>;
  log?: (line: string) => void;
}

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Parity mode: the bundles `cdk synth` builds, each started from an isolated copy of its asset in
 * a process of its own with the environment its template gives it (deploy-time values filled in
 * with the local stack's), exactly the artifacts a deploy ships; only sharp is reinstalled for
 * this machine's CPU. They sign in to the database over the network as on Lambda: no PGlite.
 */
export async function artifactFunctions(options: ArtifactOptions): Promise<LocalFunctions> {
  const assembly = await synthesizedApp({ repoRoot: REPO_ROOT, log: options.log });
  const prepared = await hostRunnableFunctions(assembly);
  const started = new Map<string, StartedFunction>();
  // The video function reaches the transform function through Lambda's Invoke API, as deployed.
  const invokable: Record<string, StartedFunction> = {};
  const lambda = await startInvokeEndpoint(invokable);
  const environmentOf = (name: string): Record<string, string | undefined> =>
    name === 'transform-video'
      ? // Its template's environment alone, and this machine's ffmpeg (the archive is Lambda's CPU).
        {
          AWS_REGION: 'us-east-1',
          POWERTOOLS_LOG_LEVEL: options.local.POWERTOOLS_LOG_LEVEL,
          MEDIA_FFPROBE_PATH: 'ffprobe',
          MEDIA_FFMPEG_PATH: 'ffmpeg',
        }
      : { ...options.local, MEDIA_LAMBDA_ENDPOINT: lambda.url };
  try {
    for (const fn of prepared.filter((f) => f.name !== 'migrate')) {
      started.set(
        fn.name,
        await startFunction({
          dir: fn.dir,
          handler: fn.handler,
          functionName: fn.name,
          memorySize: fn.memorySize,
          timeoutSeconds: fn.timeoutSeconds,
          environment: withTaskPaths(
            runtimeEnvironment(fn, { ...options.deployTime, MEDIA_VIDEO_TRANSFORM_FUNCTION: 'transform-video' }, environmentOf(fn.name)),
            fn.dir,
          ),
          onOutput: (text) => {
            for (const line of text.split('\n')) if (line.trim()) options.log?.(`[${fn.name}] ${line}`);
          },
        }),
      );
    }
    invokable['transform-video'] = started.get('transform-video')!;
  } catch (error) {
    await Promise.all([...started.values()].map((fn) => fn.stop()));
    await lambda.stop();
    throw error;
  }
  const invoker = <E, R>(name: string) => {
    const fn = started.get(name);
    if (!fn) throw new Error(`the cloud assembly has no function ${name}`);
    return (event: E) => fn.invoke<R>(event);
  };
  return {
    mode: 'artifacts',
    api: {
      'request-upload': invoker('request-upload'),
      'get-download': invoker('get-download'),
      'media-api': invoker('media-api'),
    },
    processUpload: invoker('process-upload'),
    processVideo: invoker('process-video'),
    sweeper: invoker('sweeper'),
    retention: invoker('sweeper'),
    rightsJobs: invoker('sweeper'),
    detectFaces: invoker('detect-faces'),
    stop: async () => {
      await Promise.all([...started.values()].map((fn) => fn.stop()));
      await lambda.stop();
    },
  };
}

/** The face stage's files, which the template places under /var/task: the copy's folder here. */
function withTaskPaths(environment: Record<string, string>, dir: string): Record<string, string> {
  const paths = ['MEDIA_FACE_MODEL_DIR', 'MEDIA_FACE_WASM_DIR'];
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [
      key,
      paths.includes(key) && value.startsWith('/var/task/') ? `${dir}${value.slice('/var/task'.length)}` : value,
    ]),
  );
}
