// The local secrets of `npm start`, in .dev.vars (git-ignored): created on first run, and any
// secret a later version needs is added to an existing file; a value that is there never changes.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** NAME=value lines of a .dev.vars file (quotes around a value removed). */
export function readVars(path) {
  if (!existsSync(path)) return {};
  return Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => /^\s*[A-Z_][A-Z0-9_]*\s*=/.test(l))
      .map((l) => [
        l.slice(0, l.indexOf('=')).trim(),
        l
          .slice(l.indexOf('=') + 1)
          .trim()
          .replace(/^"|"$/g, ''),
      ]),
  );
}

/** The worker's secrets, each made anew: the admin key, the JWT secret and the secrets encryption key. */
export const SECRET_MAKERS = {
  ADMIN_API_KEY: () => `mf_admin_${randomBytes(24).toString('hex')}`,
  JWT_SECRET: () => randomBytes(32).toString('base64url'),
  // Encrypts webhook and trigger signing secrets in D1.
  SECRETS_ENCRYPTION_KEY: () => randomBytes(32).toString('base64'),
  // What the worker and the native runner present to each other.
  RUNNER_TOKEN: () => `mf_runner_${randomBytes(24).toString('hex')}`,
};

/** Adds missing secrets to the file; answers every variable and the names it added. */
export function ensureDevVars(path = '.dev.vars') {
  const vars = readVars(path);
  /** @type {Partial<typeof SECRET_MAKERS>} */
  const wanted = { ...SECRET_MAKERS };
  // Tokens are signed with one key: a user who chose an Ed25519 pair gets no secret beside it.
  if (vars.JWT_PRIVATE_KEY) delete wanted.JWT_SECRET;
  const added = Object.entries(wanted).filter(([k]) => !vars[k]);
  if (added.length > 0) {
    const lines = added.map(([k, make]) => `${k}=${(vars[k] = make())}`);
    const before = existsSync(path) ? readFileSync(path, 'utf8') : '# local secrets for wrangler dev; git-ignored\n';
    const separator = before.endsWith('\n') ? '' : '\n';
    writeFileSync(path, `${before}${separator}${lines.join('\n')}\n`, { mode: 0o600 });
  }
  return { vars, added: added.map(([k]) => k) };
}
