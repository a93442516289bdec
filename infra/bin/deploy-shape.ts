import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deployShape, type DeployShape } from '../lib/deploy-shape';
import { createMediaServiceApp } from '../lib/media-service-app';
import { REPO_ROOT } from '../lib/repo';

const USAGE = `Usage: npm run deploy:shape -- [-c media:<setting>=<value>]…

Synthesizes the stack as \`cdk deploy\` would with the same -c values (without bundling the
functions, so in seconds and offline) and prints what a first deploy creates: resources by type,
the slow ones with their typical creation time, and what \`cdk destroy\` would keep.`;

let parsed;
try {
  parsed = parseArgs({ options: { context: { type: 'string', short: 'c', multiple: true, default: [] } } });
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const context: Record<string, string> = {};
for (const pair of parsed.values.context) {
  const at = pair.indexOf('=');
  if (at < 1) {
    console.error(`-c ${pair}: write -c key=value\n\n${USAGE}`);
    process.exit(2);
  }
  context[pair.slice(0, at)] = pair.slice(at + 1);
}

const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
let shape: DeployShape;
let stackName: string;
try {
  const { app, stack } = createMediaServiceApp({
    // No bundling and no synth-time checks: the resources are the same, only the assets are missing.
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:validateAgainstDefaultRules': false, ...context },
    outdir: mkdtempSync(join(tmpdir(), 'media-shape-')),
    checks: false,
    // Nor CDK's built-in template validation: most of the synth's time, and what it finds is `cdk synth`'s to report.
    builtinCloudFormationValidation: false,
  });
  stackName = stack.stackName;
  const template = app.synth().getStackByName(stack.stackName).template as Parameters<typeof deployShape>[0];
  shape = deployShape(template);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}

console.log(`${stackName}: ${shape.total} resources`);
for (const [type, count] of shape.byType) console.log(`  ${String(count).padStart(3)}  ${type}`);
console.log('\nSlow to create (typical times, not measured here):');
for (const { type, count, typical } of shape.slow) console.log(`  ${String(count).padStart(3)}  ${type}: ${typical}`);
console.log(
  shape.keptOnDestroy.length === 0
    ? '\ncdk destroy keeps nothing of this stack.'
    : `\ncdk destroy keeps ${shape.keptOnDestroy.length}:\n${shape.keptOnDestroy.map((k) => `  ${k}`).join('\n')}`,
);
