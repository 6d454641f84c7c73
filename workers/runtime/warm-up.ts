import { loadOnnxModel } from './onnx-session';
import warmUpModel from './warm-up.onnx';

/*
 * A cold isolate spends most of its first prediction starting onnxruntime and compiling, on
 * first use, the WASM code that loads and runs a graph (about 300 ms here; loading a real model
 * afterwards takes a few). Loading and running a tiny built-in model
 * (scripts/onnx/warm-up-model.mjs) as soon as a prediction request arrives lets that happen while
 * the request waits for its credential and model record instead of after them.
 */

let warming: Promise<void> | undefined;
let state: 'idle' | 'warming' | 'ready' = 'idle';

async function warmUp(): Promise<void> {
  const { session } = await loadOnnxModel(new Uint8Array(warmUpModel));
  try {
    await session.run({ x: { datatype: 'FP32', shape: [1, 4], data: new Float32Array([5.1, 3.5, 1.4, 0.2]) } }, [
      'label',
      'p',
    ]);
  } finally {
    await session.release();
  }
}

/**
 * Starts the warm-up once per isolate and returns it; it never rejects, since a runtime that
 * cannot start fails the real load with the reason.
 */
export function warmUpRuntime(): Promise<void> {
  if (!warming) {
    state = 'warming';
    warming = warmUp()
      .catch(() => undefined)
      .finally(() => {
        state = 'ready';
      });
  }
  return warming;
}

/** Whether this isolate has started (or finished) its warm-up. */
export const warmUpState = () => state;
