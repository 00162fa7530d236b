// How an error becomes an HTTP answer: `{"detail"}`, and the Retry-After its status implies.
// A leaf, so the dispatcher, the stream upgrade and the OpenAPI generator share it without a cycle.

/** Seconds a client should wait before retrying, by status. */
export const RETRY_AFTER_SECONDS: Readonly<Record<number, number>> = { 429: 1, 503: 5 };
