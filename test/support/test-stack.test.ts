import { describe, expect, it } from 'vitest';
import { startTestStack } from './test-stack';

describe('starting a local stack for a test', () => {
  it('fails with the phase it is stuck in, not a bare hook timeout, when the start runs over its ceiling', async () => {
    await expect(startTestStack({}, { startCeilingMs: 1 })).rejects.toThrow(
      /^local stack start: [\w( )]+ took > \d+\.\ds \(whole start > 0\.0s\)/,
    );
  });

  it('starts on this machine and stops cleanly', async () => {
    const stack = await startTestStack();
    expect((await fetch(`${stack.apiUrl}/health`)).status).toBe(200);
    await stack.close();
  });
});
