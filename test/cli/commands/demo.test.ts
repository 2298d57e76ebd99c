import {beforeAll, describe, expect, it} from 'vitest';
import {BUILD_TIMEOUT_MS, ensureBuilt, runCli} from '../cli-harness.js';

describe('mcp-google-auth demo (npm start)', () => {
  beforeAll(() => ensureBuilt(), BUILD_TIMEOUT_MS);

  it('shows the bug and the fix with no environment set up, and exits 0', async () => {
    // No GOOGLE_* variables at all: the demo sets up the emulator for itself.
    const result = await runCli(['demo']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/1\. The bug: .*access-token path/);
    // The deliberate 401 of step 1 is the expected failure, not a failed check.
    expect(out).toContain('[expected failure] The front answered 401 Unauthorized');
    expect(out).not.toContain('[FAIL]');
    expect(out).toMatch(/Listed 4 tools: echo, add, whoami, slow_count/);
    expect(out).toContain('add {a: 2, b: 3} = 5');
    expect(out).toContain('whoami = mcp-agent@emulator-project.iam.gserviceaccount.com');
    expect(out).toMatch(/MCP sessions\s+1 /);
    expect(out).toMatch(/Token requests to Google\s+\d+ .*1 ID token for every call/);
    expect(out).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
  });
});
