import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/lib/repo';

describe('the repository', () => {
  it('holds no unresolved merge: no conflict markers in any tracked file', () => {
    // git grep exits 1 when nothing matches.
    let found = '';
    try {
      found = execFileSync('git', ['grep', '-nI', '-E', '^(<<<<<<< |>>>>>>> )', '--', '.', ':!package-lock.json'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      });
    } catch (error) {
      if ((error as { status?: number }).status !== 1) throw error;
    }
    expect(found.split('\n').filter(Boolean)).toEqual([]);
  });
});
