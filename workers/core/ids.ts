/** Prefixed random ids (`mdl_…`, `ver_…`) so an id says what it names in logs and URLs. */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`;
}

/** Well-formed ids accepted from callers (request ids, idempotency keys). */
export const SAFE_TOKEN = /^[A-Za-z0-9._:-]{1,128}$/;
