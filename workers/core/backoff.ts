/** Exponential backoff for queue retries: base, 2·base, 4·base… capped at an hour. */
export function backoffSeconds(attempts: number, baseSeconds: number): number {
  return Math.min(3600, Math.round(baseSeconds * 2 ** Math.max(0, attempts - 1)));
}
