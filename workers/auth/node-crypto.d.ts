// The one node:crypto function the worker uses (nodejs_compat): workerd runs scrypt natively.
// The worker is typed against the Workers runtime, not Node, so it is declared here.
declare module 'node:crypto' {
  export function scrypt(
    password: ArrayBufferView,
    salt: ArrayBufferView,
    keylen: number,
    options: { N: number; r: number; p: number; maxmem: number },
    callback: (err: Error | null, derived: Uint8Array) => void,
  ): void;
}
