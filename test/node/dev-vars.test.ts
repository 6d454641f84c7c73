import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDevVars, readVars } from '../../scripts/lib/dev-vars.mjs';

const dirs: string[] = [];
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'devvars-'));
  dirs.push(dir);
  return join(dir, '.dev.vars');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('npm start’s .dev.vars', () => {
  it('is created with an admin key, a JWT secret, a 32-byte secrets encryption key and a runner token', () => {
    const path = tempFile();
    const { vars, added } = ensureDevVars(path);
    expect(added).toEqual(['ADMIN_API_KEY', 'JWT_SECRET', 'SECRETS_ENCRYPTION_KEY', 'RUNNER_TOKEN']);
    expect(vars.RUNNER_TOKEN!.length).toBeGreaterThanOrEqual(32);
    expect(Buffer.from(vars.SECRETS_ENCRYPTION_KEY!, 'base64')).toHaveLength(32);
    expect(readVars(path)).toEqual(vars);
  });

  it('gains the encryption key and the runner token when an older file lacks them, and keeps every value it has', () => {
    const path = tempFile();
    writeFileSync(path, '# mine\nADMIN_API_KEY=mf_admin_old\nJWT_SECRET="kept-secret-0123456789abcdef0123456789"');
    const { vars, added } = ensureDevVars(path);
    expect(added).toEqual(['SECRETS_ENCRYPTION_KEY', 'RUNNER_TOKEN']);
    expect(vars.ADMIN_API_KEY).toBe('mf_admin_old');
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('# mine\nADMIN_API_KEY=mf_admin_old\nJWT_SECRET="kept-secret')).toBe(true);
    expect(text).toMatch(/\nSECRETS_ENCRYPTION_KEY=[A-Za-z0-9+/]{43}=\nRUNNER_TOKEN=mf_runner_[0-9a-f]{48}\n$/);
    expect(ensureDevVars(path).added).toEqual([]);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });
});
