/** Generated test models by name (see test-models.mjs); `datatypes` feeds the identity model. */
export declare function buildTestModels(datatypes: readonly string[]): Record<string, Uint8Array>;
