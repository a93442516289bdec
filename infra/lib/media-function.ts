import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, type Duration, type ILocalBundling, type RemovalPolicy, type Size } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { buildSync, type BuildOptions } from 'esbuild';
import { nativeInstallCommand, nativePackageJson, type LambdaArchitecture } from '@media/artifacts';
import { REPO_ROOT } from './repo';

export type MediaFunctionName =
  | 'request-upload'
  | 'get-download'
  | 'media-api'
  | 'process-upload'
  | 'process-video'
  | 'transform-video'
  | 'sweeper'
  | 'migrate'
  | 'detect-faces';

/** What every function of the service shares: where it runs, what it reads, how long logs live. */
export interface FunctionRuntime {
  architecture: 'arm64' | 'x86_64';
  logRetentionDays: number;
  removalPolicy: RemovalPolicy;
  /** The configuration every function reads at cold start (packages/core/src/config.ts). */
  environment: Record<string, string>;
  /** In AWS the functions live in the VPC's private subnets; on LocalStack they do not. */
  network?: { vpc: ec2.IVpc; subnets: ec2.SubnetSelection; securityGroup: ec2.ISecurityGroup };
}

export interface MediaFunctionProps {
  name: MediaFunctionName;
  runtime: FunctionRuntime;
  description: string;
  memorySize: number;
  timeout: Duration;
  environment?: Record<string, string>;
  reservedConcurrentExecutions?: number;
  /** Ship sharp's native build for Lambda's Linux and the WASM HEIC decoder next to the bundle (the image pipeline). */
  withSharp?: boolean;
  /** Also ship the pinned ffmpeg and ffprobe next to the bundle (video checks, remux, poster frames). */
  withVideoTools?: boolean;
  /** Also ship the face stage's two networks and TensorFlow's `.wasm` files next to the bundle (detect-faces). */
  withFaceModels?: boolean;
  /** /tmp: a video is streamed there (the upload and its clean copy), never held in memory. */
  ephemeralStorageSize?: Size;
  /**
   * Outside the VPC and without the service's shared configuration (bucket, database, tokens): only
   * `environment` and the Powertools settings. For the function that works on presigned URLs alone.
   */
  isolated?: boolean;
}

/**
 * ffmpeg and ffprobe for Lambda, without Docker: Debian bookworm's security-updated build for the
 * function's CPU, with Debian's loader and exactly the shared libraries the two programs load, every
 * package pinned by hash in `infra/video-tools/<arch>.lock.json` (docs/large-media.md § ffmpeg and
 * ffprobe). Shipped as one archive that the function unpacks into /tmp on its first video.
 */
export const VIDEO_TOOLS_ARCHIVE = 'video-tools.tar.gz';

/** Where the processor finds the tools in Lambda (its code lives in /var/task). */
export function videoToolsEnvironment(): Record<string, string> {
  return { MEDIA_VIDEO_TOOLS_ARCHIVE: `/var/task/${VIDEO_TOOLS_ARCHIVE}` };
}

/** The logging and metrics settings alone, out of the shared configuration. */
function powertoolsEnvironment(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter(([key]) => key.startsWith('POWERTOOLS_')));
}

/**
 * The face stage's files beside the bundle: SSD MobileNet v1 and the 68-point landmark net (weights and
 * manifests, the list of packages/faces/src/face-model.ts's MODEL_FILES), and TensorFlow.js's WASM
 * builds (plain, SIMD, threaded SIMD: the backend picks one by what the CPU and Node offer).
 */
export const FACE_MODEL_DIR = 'face-models';
export const FACE_WASM_DIR = 'tfjs-wasm';
export const FACE_MODEL_FILES = [
  'ssd_mobilenetv1_model-weights_manifest.json',
  'ssd_mobilenetv1_model.bin',
  'face_landmark_68_model-weights_manifest.json',
  'face_landmark_68_model.bin',
] as const;
export const FACE_WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/** Where detect-faces finds them in Lambda (its code lives in /var/task). */
export function faceModelEnvironment(): Record<string, string> {
  return { MEDIA_FACE_MODEL_DIR: `/var/task/${FACE_MODEL_DIR}`, MEDIA_FACE_WASM_DIR: `/var/task/${FACE_WASM_DIR}` };
}

/** The commands that copy them from the installed packages (the versions the lock file pins) into a bundle. */
function faceModelCopy(outputDir: string): string[] {
  const models = join(REPO_ROOT, 'node_modules', '@vladmandic', 'face-api', 'model');
  const wasm = join(REPO_ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  return [
    `mkdir -p "${outputDir}/${FACE_MODEL_DIR}" "${outputDir}/${FACE_WASM_DIR}"`,
    `cp ${FACE_MODEL_FILES.map((file) => `"${models}/${file}"`).join(' ')} "${outputDir}/${FACE_MODEL_DIR}/"`,
    `cp ${FACE_WASM_FILES.map((file) => `"${wasm}/${file}"`).join(' ')} "${outputDir}/${FACE_WASM_DIR}/"`,
  ];
}

/** Node.js 24 on Lambda. */
export const NODEJS_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * Modules the bundle must not contain: PGlite (the local stack's embedded database, loaded only
 * when no DATABASE_URL is set) and pg's optional native binding.
 */
const NEVER_BUNDLED = ['@electric-sql/pglite', 'kysely-pglite-dialect', 'pg-native'];

// ESM bundles of CommonJS dependencies still use CommonJS's names: `require` for Node built-ins (pg,
// sharp's loader), `__dirname` where Emscripten's loader of TensorFlow's WASM backend looks for its
// .wasm (without it the backend fails to start and tfjs falls back to its far slower CPU backend).
const COMMONJS_SHIM = [
  "import { createRequire as __mediaCreateRequire } from 'node:module';",
  "import { dirname as __mediaDirname } from 'node:path';",
  "import { fileURLToPath as __mediaFileURLToPath } from 'node:url';",
  'const require = __mediaCreateRequire(import.meta.url);',
  'const __filename = __mediaFileURLToPath(import.meta.url);',
  'const __dirname = __mediaDirname(__filename);',
].join(' ');

/**
 * The image pipeline's packages that stay files of their own beside the bundle: sharp (a prebuilt
 * libvips for the platform it runs on) and the HEIC decoder, heic-decode with libheif-js, whose
 * WASM build of libheif and libde265 (LGPL-3.0) is loaded at run time from its own, unmodified,
 * replaceable files rather than compiled into our bundle.
 */
export const IMAGE_PIPELINE_PACKAGES = ['sharp', 'heic-decode', 'libheif-js'] as const;

/**
 * The bundle marks the image pipeline's packages external, then installs them for Lambda's Linux
 * and CPU into the bundle's own node_modules, with the command that also prepares a host copy for
 * the artifact tests (@media/artifacts): only the CPU differs. The versions are the ones the lock
 * file pins, the ones the tests ran. With `sharp: false` only the video tools are added (the
 * transform function decodes no image).
 */
export function sharpForLambda(
  architecture: LambdaArchitecture,
  options: { videoTools?: boolean; sharp?: boolean; faceModels?: boolean } = {},
): ICommandHooks {
  const withSharp = options.sharp ?? true;
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  const versions = Object.fromEntries(
    IMAGE_PIPELINE_PACKAGES.map((name) => {
      const version = lock.packages[`node_modules/${name}`]?.version;
      if (!version) throw new Error(`${name} is not in package-lock.json`);
      return [name, version];
    }),
  );
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    // One command: CDK runs each hook command in its own shell, in the project root.
    afterBundling: (_inputDir: string, outputDir: string) => [
      [
        `cd "${outputDir}"`,
        ...(withSharp ? [`printf '%s' '${nativePackageJson(versions)}' > package.json`, nativeInstallCommand(architecture)] : []),
        // The pinned Debian packages, hash-checked, from the user's cache (downloaded once).
        ...(options.videoTools
          ? [
              `"${join(REPO_ROOT, 'node_modules', '.bin', 'tsx')}" "${join(REPO_ROOT, 'infra', 'bin', 'video-tools.ts')}" ${architecture} "${outputDir}/${VIDEO_TOOLS_ARCHIVE}"`,
            ]
          : []),
        ...(options.faceModels ? faceModelCopy(outputDir) : []),
      ].join(' && '),
    ],
  };
}

/**
 * esbuild as NodejsFunction runs it (ESM, minified, Node 24, `module` before `main`, the CommonJS
 * shim, source maps without sources), but with code splitting, which NodejsFunction cannot ask for
 * (it writes one file): what a function reaches only through `import()` (the CloudFront, SNS and SQS
 * clients, the SDK's other credential providers, the OpenAPI document) becomes a chunk of its own in
 * `chunks/` beside `index.mjs`, read and compiled when first imported instead of with the bundle at
 * every cold start. Exported for the cold-start bench, whose baselines are built the same way.
 */
export function functionBuildOptions(entry: string, outputDir: string, external: readonly string[]): BuildOptions {
  return {
    absWorkingDir: REPO_ROOT,
    entryPoints: { index: entry },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
    banner: { js: COMMONJS_SHIM },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: [...external],
    splitting: true,
    outdir: outputDir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
  };
}

/**
 * The bundle, then the hooks (sharp, the video tools, the face models), in the project root, as CDK
 * runs them. Its fields are what CDK keys its cache of bundled assets by (the bundling options as
 * JSON, where `tryBundle` itself does not show): without them every function would get the bundle
 * built first.
 */
class FunctionBundle implements ILocalBundling {
  readonly hookCommands: string[];

  constructor(
    readonly entry: string,
    readonly external: readonly string[],
    private readonly hooks: ICommandHooks | undefined,
  ) {
    this.hookCommands = hooks?.afterBundling(REPO_ROOT, '<output>') ?? [];
  }

  tryBundle(outputDir: string): boolean {
    buildSync(functionBuildOptions(this.entry, outputDir, this.external));
    for (const command of this.hooks?.afterBundling(REPO_ROOT, outputDir) ?? []) {
      execFileSync('bash', ['-c', command], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    }
    return true;
  }
}

/**
 * One function of the service: `functions/<name>/handler.ts` bundled by esbuild (locally, no
 * Docker; FunctionBundle above), Node.js 24, the configured architecture, its own log group with a
 * retention, and the shared configuration plus Powertools settings in its environment.
 *
 * The AWS SDK v3 clients are bundled on purpose: the function runs the exact SDK version the tests
 * ran, not whichever one the managed runtime carries that week; tree-shaking keeps it small.
 */
export class MediaFunction extends lambda.Function {
  readonly mediaName: MediaFunctionName;

  constructor(scope: Construct, id: string, props: MediaFunctionProps) {
    const { runtime } = props;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.runtime.logRetentionDays as logs.RetentionDays,
      removalPolicy: runtime.removalPolicy,
    });
    const entry = join(REPO_ROOT, 'functions', props.name, 'handler.ts');
    const external = [...NEVER_BUNDLED, ...(props.withSharp ? IMAGE_PIPELINE_PACKAGES : [])];
    const hooks =
      props.withSharp || props.withVideoTools
        ? sharpForLambda(runtime.architecture, {
            videoTools: props.withVideoTools,
            sharp: props.withSharp ?? false,
            faceModels: props.withFaceModels,
          })
        : undefined;
    super(scope, id, {
      code: lambda.Code.fromAsset(REPO_ROOT, {
        // Named by what was built, as NodejsFunction's assets are.
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Only if local bundling failed, which throws instead: never pulled.
          image: NODEJS_RUNTIME.bundlingImage,
          local: new FunctionBundle(entry, external, hooks),
        },
      }),
      handler: 'index.handler',
      description: props.description,
      runtime: NODEJS_RUNTIME,
      architecture: runtime.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      ephemeralStorageSize: props.ephemeralStorageSize,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logGroup,
      environment: {
        ...(props.isolated ? powertoolsEnvironment(runtime.environment) : runtime.environment),
        ...(props.withVideoTools ? videoToolsEnvironment() : {}),
        ...(props.withFaceModels ? faceModelEnvironment() : {}),
        ...props.environment,
      },
      ...(runtime.network && !props.isolated
        ? { vpc: runtime.network.vpc, vpcSubnets: runtime.network.subnets, securityGroups: [runtime.network.securityGroup] }
        : {}),
    });
    this.mediaName = props.name;
    // Lets tools find this function's asset in the cloud assembly by the service's name for it.
    (this.node.defaultChild as lambda.CfnFunction).addMetadata('media:function', props.name);
  }
}
