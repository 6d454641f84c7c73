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
let heap: WebAssembly.Memory | undefined;
/** No limit until the composition root sets one: WASM32 cannot pass 4 GiB anyway. */
let heapLimitBytes = 2 ** 32;

const PAGE = 65536;

/** The memory ORT's glue hands its module: found among the imports, whatever name minification gave it. */
function findMemory(imports: WebAssembly.Imports | undefined): WebAssembly.Memory | undefined {
  for (const module of Object.values(imports ?? {})) {
    for (const value of Object.values(module)) if (value instanceof WebAssembly.Memory) return value;
  }
  return undefined;
}

/*
 * ORT's glue creates its heap with a 4 GiB maximum and grows it on demand; WASM memory never
 * shrinks, and the deployed isolate dies at 128 MB. A 219-byte model whose ConstantOfShape
 * onnxruntime folds at load took the heap from 16 to 810 MiB (test/hostile). The glue grows
 * the heap only through this object's grow() and treats a throw as "no memory": malloc then
 * fails, onnxruntime throws std::bad_alloc, the load or run fails cleanly, and the runtime
 * stays usable. Refusing growth past the limit turns a dead isolate into a 4xx.
 */
function capGrowth(memory: WebAssembly.Memory): void {
  const grow = memory.grow.bind(memory);
  memory.grow = (delta: number) => {
    if (memory.buffer.byteLength + delta * PAGE > heapLimitBytes) {
      throw new RangeError(`onnxruntime's heap would pass its limit of ${heapLimitBytes} bytes`);
    }
    return grow(delta);
  };
}

function installInstantiateShim(): void {
  const original = WebAssembly.instantiate.bind(WebAssembly) as (
    source: BufferSource | WebAssembly.Module,
    imports?: WebAssembly.Imports,
  ) => Promise<unknown>;
  const shim = async (source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports) => {
    if (ArrayBuffer.isView(source) && source.buffer === marker) {
      heap = findMemory(imports);
      if (heap) capGrowth(heap);
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

/** Bounds onnxruntime's WASM heap for this isolate (from config, set by the composition root). */
export function limitOrtHeap(bytes: number): void {
  heapLimitBytes = bytes;
}

export function ortHeapLimitBytes(): number {
  return heapLimitBytes;
}

/** Bytes of ORT's WASM heap: a high-water mark, since WebAssembly memory only grows. 0 before the first session. */
export function ortHeapBytes(): number {
  return heap?.buffer.byteLength ?? 0;
}

/** What onnxruntime says when an allocation failed, at load or run. */
export function isOutOfMemory(err: unknown): boolean {
  return /std::bad_alloc|failed to allocate a buffer/.test(err instanceof Error ? err.message : String(err));
}

export type Ort = typeof ort;
