import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** A Lambda function of a synthesized stack, as CloudFormation will create it. */
export interface SynthesizedFunction {
  /** The service's name for it (`functions/<name>`), from the resource's `media:function` metadata. */
  name: string;
  logicalId: string;
  /** The asset folder `cdk synth` wrote: what Lambda unpacks into /var/task. */
  assetDir: string;
  /** `file.export`, as Lambda reads it. */
  handler: string;
  runtime: string;
  architecture: 'arm64' | 'x86_64';
  memorySize: number;
  timeoutSeconds: number;
  /**
   * The environment as the template gives it: literal values as strings; values CloudFormation
   * resolves at deploy time (references to the bucket, queues, parameters) as `undefined`.
   */
  environment: Record<string, string | undefined>;
}

interface Manifest {
  artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
}

// CloudFormation JSON: the shapes vary by resource type.
// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template is whatever JSON the synth wrote; read by shape below
type Json = any;

/**
 * The service's functions in a cloud assembly (`cdk.out`): every `AWS::Lambda::Function` the
 * service declared (those carrying `media:function` metadata), with its asset folder.
 */
export function synthesizedFunctions(cloudAssemblyDir: string): SynthesizedFunction[] {
  const dir = resolve(cloudAssemblyDir);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const found: SynthesizedFunction[] = [];
  for (const artifact of Object.values(manifest.artifacts)) {
    const templateFile = artifact.type === 'aws:cloudformation:stack' ? artifact.properties?.templateFile : undefined;
    if (!templateFile) continue;
    const template = JSON.parse(readFileSync(join(dir, templateFile), 'utf8')) as { Resources?: Record<string, Json> };
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      const name = resource.Metadata?.['media:function'];
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (resource.Type !== 'AWS::Lambda::Function' || typeof name !== 'string' || typeof assetPath !== 'string') continue;
      const props = resource.Properties;
      const variables = (props.Environment?.Variables ?? {}) as Record<string, Json>;
      found.push({
        name,
        logicalId,
        assetDir: join(dir, assetPath),
        handler: props.Handler,
        runtime: props.Runtime,
        architecture: props.Architectures?.[0] === 'arm64' ? 'arm64' : 'x86_64',
        memorySize: props.MemorySize ?? 128,
        timeoutSeconds: props.Timeout ?? 3,
        environment: Object.fromEntries(
          Object.entries(variables).map(([key, value]) => [key, typeof value === 'string' ? value : undefined]),
        ),
      });
    }
  }
  return found;
}

/** One function by its service name; a missing one is a broken synth, said as such. */
export function synthesizedFunction(cloudAssemblyDir: string, name: string): SynthesizedFunction {
  const fn = synthesizedFunctions(cloudAssemblyDir).find((f) => f.name === name);
  if (!fn) throw new Error(`the cloud assembly in ${cloudAssemblyDir} has no function "${name}"`);
  return fn;
}

/**
 * A function's environment as it will be on Lambda once CloudFormation has resolved it: the
 * template's literal values, `deployTime` for what the template leaves to the deploy (the bucket,
 * queues, parameters; a literal may be overridden too), and `local` for what only an emulator
 * needs (endpoints, credentials). A deploy-time value left unresolved is left out, as a missing
 * variable, so the function's config check says so.
 */
export function runtimeEnvironment(
  fn: SynthesizedFunction,
  deployTime: Record<string, string | undefined>,
  local: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, literal] of Object.entries(fn.environment)) {
    const value = key in deployTime ? deployTime[key] : literal;
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(local)) if (value !== undefined) env[key] = value;
  return env;
}
