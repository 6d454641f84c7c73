import * as ort from 'onnxruntime-web/wasm';
import ortWasmModule from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';

/*
 * onnxruntime-web expects to fetch and compile its WASM binary itself. Workers forbid
 * compiling WebAssembly from bytes, so ORT is handed a marker buffer as `wasmBinary` and the
 * one `WebAssembly.instantiate` call that receives that marker is answered with the module
 * wrangler precompiled at build time. Every other call passes through untouched.
 */
const marker = new ArrayBuffer(8);
let ready: Promise<typeof ort> | undefined;

function installInstantiateShim(): void {
  const original = WebAssembly.instantiate.bind(WebAssembly) as (
    source: BufferSource | WebAssembly.Module,
    imports?: WebAssembly.Imports,
  ) => Promise<unknown>;
  const shim = async (source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports) => {
    if (ArrayBuffer.isView(source) && source.buffer === marker) {
      const instance = await WebAssembly.instantiate(ortWasmModule, imports);
      return { instance, module: ortWasmModule };
    }
    return original(source, imports);
  };
  (WebAssembly as { instantiate: unknown }).instantiate = shim;
}

/** Configures onnxruntime-web for the Workers isolate once; later calls share the result. */
export function ortRuntime(): Promise<typeof ort> {
  ready ??= (async () => {
    installInstantiateShim();
    ort.env.wasm.numThreads = 1; // no Worker API inside an isolate
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmBinary = marker;
    ort.env.logLevel = 'error';
    return ort;
  })();
  return ready;
}

export type Ort = typeof ort;
