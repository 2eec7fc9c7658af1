// Types for tools/ensure-tools.mjs, which stays plain JS because it runs before npm install.
export declare const TEMPORAL_CLI_VERSION: string;
export declare const temporalCliPath: string;
export declare function ensureTools(): void;
export declare const TEMPORAL_TEST_SERVER_VERSION: string;
export declare const temporalTestServerPath: string;
export declare function ensureTestTools(): void;
export declare const SCHEMATHESIS_VERSION: string;
export declare const schemathesisDir: string;
export declare const chromiumPath: string;
export declare function chromiumMissingReason(): string | undefined;
export declare const composeValidatorPath: string;
export declare function composeValidatorMissingReason(): string | undefined;
