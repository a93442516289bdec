import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { openApiJson } from '../openapi';

/** `npm run openapi` writes docs/openapi.json; `-- --check` only says whether it is current. */
const target = fileURLToPath(new URL('../../../../docs/openapi.json', import.meta.url));
const text = openApiJson();

if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== text) {
    console.error('docs/openapi.json is out of date with the zod schemas: run `npm run openapi`.');
    process.exit(1);
  }
  console.log('docs/openapi.json matches the zod schemas.');
} else {
  await writeFile(target, text);
  console.log(`wrote docs/openapi.json (${text.length} bytes)`);
}
