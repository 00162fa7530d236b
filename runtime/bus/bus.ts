// The Bus port. Both implementations (NATS and in-process) encode every message to bytes and
// decode it on delivery, so what works in one process also works across machines.
import type { Logger } from '../logger.js';
import type { KvBucket, KvBucketOptions } from './kv.js';

export interface BusMessage<T = unknown> {
  readonly subject: string;
  readonly data: T;
  /** Present when the sender expects a reply. */
  readonly reply: string | undefined;
  /** Sends a reply to the requester; a no-op when no reply was asked for. */
  respond(data: unknown): void;
}

/** What a delivered message needs from its bus to answer. */
export interface Replier {
  sendReply(reply: string, data: unknown): void;
}

/** The message both buses hand to handlers. */
export class DeliveredMessage implements BusMessage {
  // Private so a handler that logs or serialises the message does not drag the bus along.
  readonly #bus: Replier;
  constructor(
    readonly subject: string,
    readonly data: unknown,
    readonly reply: string | undefined,
    bus: Replier,
  ) {
    this.#bus = bus;
  }

  respond(data: unknown): void {
    if (this.reply !== undefined) this.#bus.sendReply(this.reply, data);
  }
}

export type BusHandler = (msg: BusMessage) => void | Promise<void>;

/**
 * How both buses call handlers: a handler that throws, or whose promise rejects, is logged and the
 * bus carries on; handlers still running are counted so drain() can wait for them, and `onSettled`
 * is told each time one of them ends.
 */
export class HandlerRunner {
  inFlight = 0;
  constructor(
    private readonly logger: Logger,
    private readonly onSettled: () => void,
  ) {}

  /** `subject`: what the log line names, the subscription's pattern. */
  run(handler: BusHandler, msg: BusMessage, subject: string): void {
    let result: void | Promise<void>;
    try {
      result = handler(msg);
    } catch (err) {
      this.failed(subject, err);
      return;
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      this.inFlight++;
      void this.track(result, subject);
    }
  }

  private async track(result: Promise<void>, subject: string): Promise<void> {
    try {
      await result;
    } catch (err) {
      this.failed(subject, err);
    } finally {
      this.inFlight--;
      this.onSettled();
    }
  }

  private failed(subject: string, err: unknown): void {
    this.logger.error('bus handler failed', { subject, err });
  }
}

export interface SubscribeOptions {
  /** Members of one queue group share the messages: each goes to exactly one of them. */
  queue?: string;
}

export interface RequestOptions {
  timeoutMs: number;
}

export interface Subscription {
  readonly subject: string;
  unsubscribe(): void;
}

export interface Bus {
  readonly kind: 'nats' | 'memory';
  publish(subject: string, data: unknown): void;
  /**
   * Sends a request and resolves with the decoded reply. Rejects with AuroraError
   * `no_responders` when nobody listens on the subject, `bus_timeout` when nobody answers in time.
   */
  request<T = unknown>(subject: string, data: unknown, options: RequestOptions): Promise<T>;
  subscribe(subject: string, handler: BusHandler, options?: SubscribeOptions): Subscription;
  /** Resolves once everything published so far has been handed to the transport. */
  flush(): Promise<void>;
  /** Stops taking new messages, lets handlers already running finish, then closes. */
  drain(): Promise<void>;
  /** True while the connection can carry messages. */
  isConnected(): boolean;
  /**
   * Calls `listener(false)` when the connection drops and `listener(true)` when it is back (the
   * in-process bus never drops). Returns the function that stops the calls.
   */
  onConnectionChange(listener: ConnectionListener): () => void;
  /**
   * Opens (creating when missing) a JetStream key-value bucket. Only the NATS bus has one; the
   * in-process bus leaves it out (an embedded process is alone by construction).
   */
  keyValue?(bucket: string, options: KvBucketOptions): Promise<KvBucket>;
}

export type ConnectionListener = (connected: boolean) => void;

export function encode(data: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(data ?? null));
}

export function decode(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return null;
  // The NATS client hands out slices of the socket's Buffers: read those without another view.
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return JSON.parse(buf.toString('utf8'));
}
