import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { nativeInstallCommand, nativePackageJson, type LambdaArchitecture } from '@media/artifacts';
import { REPO_ROOT } from './repo';

export type MediaFunctionName =
  | 'request-upload'
  | 'get-download'
  | 'media-api'
  | 'process-upload'
  | 'process-video'
  | 'sweeper'
  | 'migrate';

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
  /** Also ship static ffmpeg and ffprobe builds next to the bundle (video checks, remux, poster frames). */
  withVideoTools?: boolean;
  /** /tmp: a video is streamed there (the upload and its clean copy), never held in memory. */
  ephemeralStorageSize?: Size;
}

/**
 * ffmpeg and ffprobe for Lambda, without Docker: static Linux builds (John Van Sickle's,
 * johnvansickle.com/ffmpeg, GPL-3.0) as npm publishes them per CPU, pinned here to exact versions
 * and installed beside the bundle by the same npm command as sharp. Optional dependencies: npm
 * installs only the ones for the CPU it is told, so the artifact tests' host copy gets its own.
 * Locally and in CI the processor runs Debian's ffmpeg instead (the `ffmpeg` package).
 */
export const VIDEO_TOOLS: Record<LambdaArchitecture, { ffmpeg: [string, string]; ffprobe: [string, string] }> = {
  arm64: { ffmpeg: ['@ffmpeg-installer/linux-arm64', '4.1.4'], ffprobe: ['@ffprobe-installer/linux-arm64', '5.2.0'] },
  x86_64: { ffmpeg: ['@ffmpeg-installer/linux-x64', '4.1.0'], ffprobe: ['@ffprobe-installer/linux-x64', '5.2.0'] },
};

/** Where the processor finds the tools in Lambda (its code lives in /var/task). */
export function videoToolsEnvironment(architecture: LambdaArchitecture): Record<string, string> {
  const tools = VIDEO_TOOLS[architecture];
  return {
    MEDIA_FFMPEG_PATH: `/var/task/node_modules/${tools.ffmpeg[0]}/ffmpeg`,
    MEDIA_FFPROBE_PATH: `/var/task/node_modules/${tools.ffprobe[0]}/ffprobe`,
  };
}

/** Node.js 24 on Lambda. */
export const NODEJS_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * Modules the bundle must not contain: PGlite (the local stack's embedded database, loaded only
 * when no DATABASE_URL is set) and pg's optional native binding.
 */
const NEVER_BUNDLED = ['@electric-sql/pglite', 'kysely-pglite-dialect', 'pg-native'];

// ESM bundles of CommonJS dependencies (pg, sharp's loader) still call `require` for Node built-ins.
const REQUIRE_SHIM =
  "import { createRequire as __mediaCreateRequire } from 'node:module'; const require = __mediaCreateRequire(import.meta.url);";

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
 * file pins, the ones the tests ran.
 */
export function sharpForLambda(architecture: LambdaArchitecture, options: { videoTools?: boolean } = {}): ICommandHooks {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  const versions = Object.fromEntries(
    IMAGE_PIPELINE_PACKAGES.map((name) => {
      const version = lock.packages[`node_modules/${name}`]?.version;
      if (!version) throw new Error(`${name} is not in package-lock.json`);
      return [name, version];
    }),
  );
  const video = options.videoTools
    ? Object.fromEntries(Object.values(VIDEO_TOOLS).flatMap((tools) => [tools.ffmpeg, tools.ffprobe]))
    : undefined;
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    // One command: CDK runs each hook command in its own shell, in the project root.
    afterBundling: (_inputDir: string, outputDir: string) => [
      [
        `cd "${outputDir}"`,
        `printf '%s' '${nativePackageJson(versions, video)}' > package.json`,
        nativeInstallCommand(architecture),
        // One of the published tarballs carries its binary without the execute bit.
        ...(video ? [`chmod 755 node_modules/@ffmpeg-installer/*/ffmpeg node_modules/@ffprobe-installer/*/ffprobe`] : []),
      ].join(' && '),
    ],
  };
}

/**
 * One function of the service: `functions/<name>/handler.ts` bundled by esbuild (locally, no
 * Docker), Node.js 24, the configured architecture, its own log group with a retention, and the
 * shared configuration plus Powertools settings in its environment.
 *
 * The AWS SDK v3 clients are bundled on purpose: the function runs the exact SDK version the tests
 * ran, not whichever one the managed runtime carries that week; tree-shaking keeps it small.
 */
export class MediaFunction extends NodejsFunction {
  readonly mediaName: MediaFunctionName;

  constructor(scope: Construct, id: string, props: MediaFunctionProps) {
    const { runtime } = props;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.runtime.logRetentionDays as logs.RetentionDays,
      removalPolicy: runtime.removalPolicy,
    });
    super(scope, id, {
      entry: join(REPO_ROOT, 'functions', props.name, 'handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: NODEJS_RUNTIME,
      architecture: runtime.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      ephemeralStorageSize: props.ephemeralStorageSize,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logGroup,
      environment: {
        ...runtime.environment,
        ...(props.withVideoTools ? videoToolsEnvironment(runtime.architecture) : {}),
        ...props.environment,
      },
      ...(runtime.network
        ? { vpc: runtime.network.vpc, vpcSubnets: runtime.network.subnets, securityGroups: [runtime.network.securityGroup] }
        : {}),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: REQUIRE_SHIM,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        bundleAwsSDK: true,
        externalModules: [...NEVER_BUNDLED, ...(props.withSharp ? IMAGE_PIPELINE_PACKAGES : [])],
        commandHooks: props.withSharp ? sharpForLambda(runtime.architecture, { videoTools: props.withVideoTools }) : undefined,
      },
    });
    this.mediaName = props.name;
    // Lets tools find this function's asset in the cloud assembly by the service's name for it.
    (this.node.defaultChild as lambda.CfnFunction).addMetadata('media:function', props.name);
  }
}
