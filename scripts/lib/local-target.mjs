// Which server a helper script talks to, and with what credential: MODELFLARE_URL (default the
// address npm start uses: http://127.0.0.1:$PORT, PORT defaulting to 8787) and
// MODELFLARE_TOKEN (default the ADMIN_API_KEY npm start wrote to .dev.vars).
import { readVars } from './dev-vars.mjs';

export function localTarget(env = process.env, varsPath = '.dev.vars') {
  const base = env.MODELFLARE_URL ?? `http://127.0.0.1:${env.PORT ?? 8787}`;
  const token = env.MODELFLARE_TOKEN ?? readVars(varsPath).ADMIN_API_KEY;
  if (!token)
    throw new Error('no credential: set MODELFLARE_TOKEN, or run from the folder whose .dev.vars npm start made');
  return { base, token };
}
