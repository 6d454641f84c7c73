/** Generated test models by name (see test-models.mjs). */
export declare const IDENTITY_DATATYPES: string[];
export declare function buildTestModels(): Record<string, Uint8Array>;
