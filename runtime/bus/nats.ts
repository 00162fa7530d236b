// The Bus over NATS core (the only file that knows the NATS client).
//
// Client behaviours this adapter leans on or works around (nats.js 3.x):
// - request() rejects with TimeoutError on timeout and with RequestError whose cause is a
//   NoRespondersError (isNoResponders()) when the server reports no subscribers.
// - A callback subscription runs the callback inside the protocol parser: a throw there would
//   break the connection, so handlers are always wrapped.
// - Publishes made while disconnected sit in an unbounded outbound buffer that the client
//   discards at its next dial attempt. So we do not hand it any: events and replies sent while
//   disconnected are held here (up to maxDisconnectedBufferBytes, then dropped and counted) and
//   handed over once the connection is back, so a reply a node sent during a blip still reaches a
//   requester whose own connection stayed up.
// - nc.drain() does not wait for async callbacks; we drain our subscriptions, wait for our
//   handlers, then drain the connection so their last replies still go out.
// - The client writes its outbound buffer to the socket one microtask after the first publish,
//   so every callback that publishes (each HTTP request's bus request, each delivered message's
//   events, each group commit's replies) would cost a socket write of its own; on this kind of
//   host a write is tens of microseconds. So publishes, replies and requests are queued here and
//   handed to the client together at the end of the event-loop turn (setImmediate: the poll phase
//   does not block while one is pending, so nothing waits for I/O). A task's events and its reply
//   (sent by the store's group commit, itself an immediate scheduled before ours) then share one
//   write. Anything that must stay ordered behind queued publishes (subscribe, flush, drain)
//   hands the queue over first.
// - A disconnect loses what is in flight: the client discards its outbound buffer at each dial
//   attempt, and replies sent to us meanwhile are gone with the server. So a request waiting at
//   the disconnect is rejected at once with `bus_disconnected` (its outcome is unknown; a caller
//   that knows what it asked for, the gateway for a task, reads the outcome once the bus is back),
//   and a request made while disconnected fails at once with `unavailable` (nothing was sent),
//   instead of both waiting out their timeouts for a reply that cannot come.
// - request() is not the client's: its RequestOne builds an Error (with a stack) per request even
//   when it succeeds, arms its own timer and writes each request at its own microtask. Ours share
//   one wildcard inbox subscription and join the same outbound queue. The server reports "no
//   responders" to the inbox as an empty message with status 503 (the client announces headers
//   and no_responders when it connects).
import { redactUrl } from '../redact.js';
import {
  ClosedConnectionError,
  connect,
  createInbox,
  DrainingConnectionError,
  InvalidSubjectError,
  NoRespondersError,
  RequestError,
  TimeoutError,
  type Msg,
  type NatsConnection,
  type Subscription as NatsSubscription,
} from '@nats-io/transport-node';
import { systemClock, type Clock, type Timer } from '../clock.js';
import { AuroraError, describe } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import {
  decode,
  encode,
  DeliveredMessage,
  HandlerRunner,
  type Bus,
  type BusHandler,
  type ConnectionListener,
  type RequestOptions,
  type SubscribeOptions,
  type Subscription,
} from './bus.js';
import type { KvBucket, KvBucketOptions } from './kv.js';
import { openNatsKvBucket } from './nats-kv.js';
import { RequestTimeouts, type Timed, type TimeoutLane } from './request-timeouts.js';
import { assertQueueName, assertSubject } from './subject-index.js';

export interface NatsBusOptions {
  url: string;
  /** Connection name shown by the NATS server's monitoring. */
  name?: string;
  logger?: Logger;
  connectTimeoutMs?: number;
  /** How long drain() waits for running handlers and the final flush before closing anyway. */
  drainTimeoutMs?: number;
  /** Bytes held for publishing while disconnected (sent on reconnect); beyond, publishes are dropped and counted. */
  maxDisconnectedBufferBytes?: number;
  /** Times requests and drain, and schedules the hand-over; default the system clock. */
  clock?: Clock;
}

type State = 'open' | 'draining' | 'closed';

class PendingRequest implements Timed<PendingRequest> {
  expiresAt = 0;
  prev: PendingRequest | undefined = undefined;
  next: PendingRequest | undefined = undefined;
  lane: TimeoutLane<PendingRequest> | undefined = undefined;
  constructor(
    readonly token: string,
    readonly subject: string,
    readonly timeoutMs: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (err: unknown) => void,
  ) {}
}

class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  private state: State = 'open';
  private connected = true;
  private bufferedWhileDownBytes = 0;
  private droppedWhileDown = 0;
  /** Publishes and replies made while disconnected, handed over on reconnect. */
  private held: { subject: string; bytes: Uint8Array; reply: string | undefined }[] = [];
  private readonly handlers: HandlerRunner;
  private idleWaiter: (() => void) | undefined;
  private drainPromise: Promise<void> | undefined;
  private readonly subs = new Set<NatsSubscription>();
  /** Subjects, payloads and reply subjects published this turn, handed to the client by handOver(). */
  private outSubjects: string[] = [];
  private outPayloads: Uint8Array[] = [];
  private outReplies: (string | undefined)[] = [];
  private handOverScheduled = false;
  private readonly handOverBound = (): void => this.handOver();
  /** `_INBOX.<nuid>.`: replies to our requests arrive on <inbox><token>. */
  private readonly inbox = `${createInbox()}.`;
  private inboxSeq = 0;
  private readonly waiting = new Map<string, PendingRequest>();
  private readonly timeouts: RequestTimeouts<PendingRequest>;
  private readonly inboxSub: NatsSubscription;
  private readonly connectionListeners = new Set<ConnectionListener>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly logger: Logger,
    private readonly drainTimeoutMs: number,
    private readonly maxDisconnectedBufferBytes: number,
    private readonly clock: Clock,
  ) {
    this.timeouts = new RequestTimeouts(clock, (req) => this.expire(req));
    this.handlers = new HandlerRunner(logger, () => {
      if (this.handlers.inFlight === 0 && this.idleWaiter !== undefined) this.idleWaiter();
    });
    this.inboxSub = nc.subscribe(`${this.inbox}*`, {
      callback: (err, msg) => {
        if (err !== null) this.logger.error('NATS inbox subscription failed', { err });
        else this.onReply(msg);
      },
    });
    this.watchStatus().catch((err: unknown) => this.logger.error('NATS status monitor failed', { err }));
    nc.closed()
      .then((err) => {
        this.connected = false;
        this.rejectWaiting('the bus closed');
        if (err) this.logger.error('NATS connection closed with an error', { err });
      })
      .catch((err: unknown) => this.logger.error('NATS close watcher failed', { err }));
  }

  publish(subject: string, data: unknown): void {
    if (this.state === 'closed') throw closedError();
    assertSubject(subject, false);
    this.send(subject, encode(data), undefined);
  }

  request<T = unknown>(subject: string, data: unknown, options: RequestOptions): Promise<T> {
    if (this.state === 'closed' || this.nc.isClosed()) return Promise.reject(closedError());
    const { timeoutMs } = options;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      return Promise.reject(new AuroraError('invalid_request', `request timeoutMs must be a positive number, got ${timeoutMs}`));
    }
    let bytes: Uint8Array;
    try {
      assertSubject(subject, false);
      bytes = encode(data);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!this.connected) {
      return Promise.reject(
        new AuroraError('unavailable', `The message bus is disconnected; "${subject}" was not sent. Retry shortly`, {
          headers: { 'retry-after': String(DISCONNECTED_RETRY_AFTER_S) },
        }),
      );
    }
    const token = (this.inboxSeq++).toString(36);
    return new Promise<T>((resolve, reject) => {
      if (!this.send(subject, bytes, this.inbox + token)) {
        reject(new AuroraError('unavailable', `request on "${subject}" dropped: NATS is disconnected and its outbound buffer is full`));
        return;
      }
      const req = new PendingRequest(token, subject, timeoutMs, resolve as (value: unknown) => void, reject);
      this.timeouts.arm(req, Math.max(1, Math.ceil(timeoutMs)));
      this.waiting.set(token, req);
    });
  }

  private expire(req: PendingRequest): void {
    if (!this.waiting.delete(req.token)) return;
    req.reject(new AuroraError('bus_timeout', `no reply on "${req.subject}" within ${req.timeoutMs}ms`));
  }

  private onReply(m: Msg): void {
    const token = m.subject.slice(this.inbox.length);
    const req = this.waiting.get(token);
    if (req === undefined) return; // timed out already, or a second reply
    this.waiting.delete(token);
    this.timeouts.disarm(req);
    if (m.data.length === 0 && m.headers?.code === 503) {
      req.reject(new AuroraError('no_responders', `no responders on "${req.subject}"`));
      return;
    }
    let value: unknown;
    try {
      value = decode(m.data);
    } catch (err) {
      req.reject(err);
      return;
    }
    req.resolve(value);
  }

  /** The connection dropped or closed: the answers of the requests still waiting may be lost. */
  private rejectWaiting(why: string): void {
    for (const [token, req] of this.waiting) {
      this.waiting.delete(token);
      this.timeouts.disarm(req);
      req.reject(new AuroraError('bus_disconnected', `request on "${req.subject}" lost its answer: ${why}; its outcome is unknown`));
    }
  }

  onConnectionChange(listener: ConnectionListener): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  private announce(connected: boolean): void {
    for (const listener of [...this.connectionListeners]) {
      try {
        listener(connected);
      } catch (err) {
        this.logger.error('bus connection listener failed', { connected, err });
      }
    }
  }

  subscribe(subject: string, handler: BusHandler, options?: SubscribeOptions): Subscription {
    if (this.state !== 'open') throw new AuroraError('unavailable', 'bus is draining or closed: cannot subscribe');
    assertSubject(subject, true);
    const queue = options?.queue;
    if (queue !== undefined) assertQueueName(queue);
    this.handOver();
    let sub: NatsSubscription;
    try {
      sub = this.nc.subscribe(subject, {
        queue,
        callback: (err, msg) => {
          if (err !== null) {
            this.logger.error('NATS subscription failed', { subject, err });
            return;
          }
          this.dispatch(subject, handler, msg);
        },
      });
    } catch (err) {
      throw toBusError(err, subject, 0);
    }
    this.subs.add(sub);
    void sub.closed.then(() => this.subs.delete(sub));
    return {
      subject,
      unsubscribe: () => {
        this.subs.delete(sub);
        if (!sub.isClosed() && !this.nc.isClosed()) sub.unsubscribe();
      },
    };
  }

  keyValue(bucket: string, options: KvBucketOptions): Promise<KvBucket> {
    if (this.state === 'closed') return Promise.reject(closedError());
    return openNatsKvBucket(this.nc, bucket, options, KV_REQUEST_TIMEOUT_MS);
  }

  async flush(): Promise<void> {
    if (this.state === 'closed') throw closedError();
    this.handOver();
    try {
      await this.nc.flush();
    } catch (err) {
      throw toBusError(err, '', 0);
    }
  }

  drain(): Promise<void> {
    this.drainPromise ??= this.runDrain();
    return this.drainPromise;
  }

  isConnected(): boolean {
    return this.state !== 'closed' && this.connected && !this.nc.isClosed();
  }

  sendReply(reply: string, data: unknown): void {
    // A reply racing a close has nobody left to read it; it must not throw inside a handler.
    if (this.state === 'closed' || this.nc.isClosed()) {
      this.logger.debug('reply dropped: bus closed', { reply });
      return;
    }
    try {
      this.send(reply, encode(data), undefined);
    } catch (err) {
      this.logger.warn('reply dropped', { reply, err });
    }
  }

  /** Queues one message for the end-of-turn hand-over; false when it was dropped (disconnected, budget spent). */
  private send(subject: string, bytes: Uint8Array, reply: string | undefined): boolean {
    if (!this.connected) {
      if (this.bufferedWhileDownBytes + bytes.length > this.maxDisconnectedBufferBytes) {
        this.droppedWhileDown++;
        return false;
      }
      this.bufferedWhileDownBytes += bytes.length;
      this.held.push({ subject, bytes, reply });
      return true;
    }
    this.outSubjects.push(subject);
    this.outPayloads.push(bytes);
    this.outReplies.push(reply);
    if (!this.handOverScheduled) {
      this.handOverScheduled = true;
      this.clock.setImmediate(this.handOverBound);
    }
    return true;
  }

  /**
   * Queued this turn, before the disconnect was noticed. Publishes and replies are held like any
   * sent while disconnected; our own requests are dropped: they were rejected as bus_disconnected,
   * and sending them later would run work whose caller already gave up on it.
   */
  private holdQueued(subjects: string[], payloads: Uint8Array[], replies: (string | undefined)[]): void {
    for (let i = 0; i < subjects.length; i++) {
      const reply = replies[i];
      if (reply !== undefined && reply.startsWith(this.inbox)) continue;
      const bytes = payloads[i]!;
      if (this.bufferedWhileDownBytes + bytes.length > this.maxDisconnectedBufferBytes) {
        this.droppedWhileDown++;
        continue;
      }
      this.bufferedWhileDownBytes += bytes.length;
      this.held.push({ subject: subjects[i]!, bytes, reply });
    }
  }

  /** Queues what was held while disconnected, oldest first, and hands it over now. */
  private releaseHeld(): void {
    const held = this.held;
    this.held = [];
    this.bufferedWhileDownBytes = 0;
    for (const m of held) {
      this.outSubjects.push(m.subject);
      this.outPayloads.push(m.bytes);
      this.outReplies.push(m.reply);
    }
    this.handOver();
  }

  /** Gives the client everything queued, in order; it then writes it to the socket in one go. */
  private handOver(): void {
    this.handOverScheduled = false;
    const subjects = this.outSubjects;
    if (subjects.length === 0) return;
    const payloads = this.outPayloads;
    const replies = this.outReplies;
    this.outSubjects = [];
    this.outPayloads = [];
    this.outReplies = [];
    if (this.nc.isClosed()) {
      this.logger.debug('publishes dropped: connection closed', { count: subjects.length });
      this.rejectWaiting('the bus closed');
      return;
    }
    if (!this.connected) {
      this.holdQueued(subjects, payloads, replies);
      return;
    }
    for (let i = 0; i < subjects.length; i++) {
      const reply = replies[i];
      try {
        if (reply === undefined) this.nc.publish(subjects[i]!, payloads[i]!);
        else this.nc.publish(subjects[i]!, payloads[i]!, { reply });
      } catch (err) {
        // Subjects were validated when queued: what fails here is the connection going away.
        const busError = toBusError(err, subjects[i]!, 0);
        const req = reply === undefined ? undefined : this.waiting.get(reply.slice(this.inbox.length));
        if (req !== undefined) {
          this.waiting.delete(req.token);
          this.timeouts.disarm(req);
          req.reject(busError);
        } else {
          this.logger.warn('publish dropped', { subject: subjects[i], err: busError });
        }
      }
    }
  }

  private dispatch(pattern: string, handler: BusHandler, m: Msg): void {
    if (this.state === 'closed') return;
    let data: unknown;
    try {
      data = decode(m.data);
    } catch (err) {
      // Someone outside Aurora published something that is not JSON: their bug, not ours.
      this.logger.warn('dropped a message that is not JSON', { subject: m.subject, err });
      return;
    }
    // The client reports "no reply subject" as an empty string.
    const reply = m.reply ? m.reply : undefined;
    this.handlers.run(handler, new DeliveredMessage(m.subject, data, reply, this), pattern);
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      switch (s.type) {
        case 'disconnect':
          this.connected = false;
          this.logger.warn('NATS disconnected; reconnecting', { server: s.server, waiting_requests: this.waiting.size });
          this.rejectWaiting('the bus disconnected');
          this.announce(false);
          break;
        case 'reconnect':
          this.connected = true;
          this.logger.info('NATS reconnected', {
            server: s.server,
            held_while_disconnected: this.held.length,
            dropped_while_disconnected: this.droppedWhileDown,
          });
          this.releaseHeld();
          this.droppedWhileDown = 0;
          this.announce(true);
          break;
        case 'error':
          this.logger.error('NATS error', { err: s.error });
          break;
        case 'slowConsumer':
          this.logger.warn('NATS slow consumer: messages dropped', { subject: s.sub.getSubject(), pending: s.pending });
          break;
        case 'ldm':
          this.logger.warn('NATS server entering lame duck mode', { server: s.server });
          break;
        case 'staleConnection':
          this.logger.warn('NATS connection is stale');
          break;
        default:
          break;
      }
    }
  }

  private async runDrain(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'draining';
    const deadline = this.clock.monotonic() + this.drainTimeoutMs;
    // 1. Stop new deliveries; messages that arrived before the server saw UNSUB still run.
    await withDeadline(Promise.allSettled([...this.subs].map((s) => s.drain())), deadline, this.clock);
    // 2. Let running handlers finish; they may still publish and reply.
    const idle =
      this.handlers.inFlight === 0 ||
      (await withDeadline(
        new Promise<true>((resolve) => {
          this.idleWaiter = () => resolve(true);
        }),
        deadline,
        this.clock,
      ));
    this.idleWaiter = undefined;
    if (idle !== true) {
      this.logger.warn('bus drain timed out; closing with handlers still running', {
        in_flight: this.handlers.inFlight,
        drain_timeout_ms: this.drainTimeoutMs,
      });
    }
    // 3. Flush what they sent and close.
    this.handOver();
    this.state = 'closed';
    if (!this.nc.isClosed()) {
      const drained = await withDeadline(
        this.nc.drain().then(
          () => true,
          (err: unknown) => {
            this.logger.warn('NATS drain failed; closing', { err });
            return false;
          },
        ),
        deadline,
        this.clock,
      );
      if (drained !== true && !this.nc.isClosed()) await this.nc.close();
    }
    this.connected = false;
  }
}

/** Resolves with the promise's value, or with `undefined` once `deadline` (on clock.monotonic()) passes. */
async function withDeadline<T>(promise: Promise<T>, deadline: number, clock: Clock): Promise<T | undefined> {
  let timer: Timer | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = clock.setTimeout(() => resolve(undefined), deadline - clock.monotonic(), { keepAlive: true });
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    timer?.cancel();
  }
}

/** JetStream API calls (KV reads and writes): a file-store write on a busy server takes milliseconds, a second is generous. */
const KV_REQUEST_TIMEOUT_MS = 3_000;

/** Retry-After of a request refused while disconnected: a reconnect takes a couple of seconds. */
const DISCONNECTED_RETRY_AFTER_S = 2;

function closedError(): AuroraError {
  return new AuroraError('unavailable', 'bus is closed');
}

/** Maps the client's errors onto Aurora's codes; anything unexpected passes through as a defect. */
function toBusError(err: unknown, subject: string, timeoutMs: number): unknown {
  if (err instanceof AuroraError) return err;
  if (isA(err, TimeoutError, 'TimeoutError')) {
    return new AuroraError('bus_timeout', `no reply on "${subject}" within ${timeoutMs}ms`, { cause: err });
  }
  if (
    isA(err, NoRespondersError, 'NoResponders') ||
    (isA(err, RequestError, 'RequestError') && isA((err as Error).cause, NoRespondersError, 'NoResponders'))
  ) {
    return new AuroraError('no_responders', `no responders on "${subject}"`, { cause: err });
  }
  if (isA(err, ClosedConnectionError, 'ClosedConnectionError') || isA(err, DrainingConnectionError, 'DrainingConnectionError')) {
    return new AuroraError('unavailable', `bus is closed: ${describe(err)}`, { cause: err });
  }
  // Other request failures are the connection going away under the request ("connection
  // disconnected", "connection closed").
  if (isA(err, RequestError, 'RequestError')) {
    return new AuroraError('unavailable', `request on "${subject}" failed: ${describe(err)}`, { cause: err });
  }
  if (isA(err, InvalidSubjectError, 'InvalidSubjectError')) {
    return new AuroraError('invalid_request', describe(err), { cause: err });
  }
  return err;
}

// The name check keeps the mapping right if a second copy of the client library is ever loaded.
function isA(err: unknown, cls: abstract new (...args: never[]) => Error, name: string): boolean {
  return err instanceof cls || (err instanceof Error && err.name === name);
}

export async function createNatsBus(options: NatsBusOptions): Promise<Bus> {
  const logger = options.logger ?? silentLogger;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url,
      name: options.name ?? 'aurora',
      timeout: options.connectTimeoutMs ?? 5_000,
      maxReconnectAttempts: -1,
      // Detect a dead peer in ~30 s rather than the client's default of minutes.
      pingInterval: 10_000,
      maxPingOut: 3,
      // Async traces capture a stack per request; our errors are rewrapped anyway.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new AuroraError('unavailable', `cannot connect to NATS at ${redactUrl(options.url)}: ${describe(err)}`, { cause: err });
  }
  logger.info('NATS connected', { server: nc.getServer() });
  return new NatsBus(
    nc,
    logger,
    options.drainTimeoutMs ?? 10_000,
    options.maxDisconnectedBufferBytes ?? 8 * 1024 * 1024,
    options.clock ?? systemClock,
  );
}
