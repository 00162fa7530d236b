// The key-value port: what Aurora needs of a JetStream KV bucket (membership and the ownership
// lease). A revision is the stream sequence of a key's latest write, so "update on revision R"
// is a compare-and-set the server decides; nothing here is consensus of our own.

export interface KvEntry {
  readonly key: string;
  readonly value: unknown;
  /** The stream sequence of this write: grows with every write to the bucket. */
  readonly revision: number;
  /** When the server stored it, milliseconds since the epoch (the server's clock, not the writer's). */
  readonly storedAt: number;
}

export interface KvBucketOptions {
  /**
   * Entries older than this are removed by the server. Only garbage collection: on NATS < 2.11
   * there is no per-key TTL, so liveness is judged from the entries' times, never from their absence.
   */
  readonly maxAgeMs: number;
}

export interface KvBucket {
  readonly name: string;
  /** The latest live value of `key`; undefined when absent or deleted. */
  get(key: string): Promise<KvEntry | undefined>;
  /** Writes `key` only if it has no live value; rejects with KvConflictError otherwise. Resolves with the revision. */
  create(key: string, value: unknown): Promise<number>;
  /** Writes `key` only if its latest revision is still `revision`; rejects with KvConflictError otherwise. */
  update(key: string, value: unknown, revision: number): Promise<number>;
  put(key: string, value: unknown): Promise<number>;
  /** Deletes `key`; with `revision`, only if that is still its latest (rejects with KvConflictError otherwise). */
  delete(key: string, revision?: number): Promise<void>;
  /** The live entries, one per key. */
  entries(): Promise<KvEntry[]>;
}

/** A compare-and-set lost: someone else wrote the key since the revision we went by. */
export class KvConflictError extends Error {
  override readonly name = 'KvConflictError';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

/** Raised when the server has no JetStream (started without -js / a jetstream block). */
export class JetStreamUnavailableError extends Error {
  override readonly name = 'JetStreamUnavailableError';
}
