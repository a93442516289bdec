import { fileURLToPath } from 'node:url';

/** The repository's root: function entries, the lock file and the migrations are found from it. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
