// Request/reply with errors as values: every reply is an envelope, so an AuroraError thrown by a
// service reaches the caller with its code and message, on one machine or across NATS.
import type { Bus, BusMessage, Subscription } from './bus/bus.js';
import { AuroraError, toErrorPayload } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import type { ReplyOf, Reply, RequestOf, ServiceKey } from './protocol/index.js';
import type { Subjects } from './subjects.js';

/** The reply envelope of runtime/protocol, under the name this module has always exported. */
export type RpcReply<T> = Reply<T>;

export interface ServeOptions {
  /** Instances serving the same subject in one queue group share the requests. */
  queue?: string;
  logger?: Logger;
}

/** Sends a request and returns the reply's data; a service's error is rethrown as AuroraError. */
export async function call<T>(bus: Bus, subject: string, data: unknown, timeoutMs: number): Promise<T> {
  const reply = await bus.request<unknown>(subject, data, { timeoutMs });
  if (isReply(reply)) {
    if (reply.ok) return reply.data as T;
    throw AuroraError.fromPayload(reply.error);
  }
  // The responder does not speak the envelope: a bug on its side, opaque to our caller.
  throw new AuroraError('internal', `malformed reply on "${subject}"`);
}

/**
 * Answers requests on `subject` with `handler`'s result. AuroraErrors go back as they are;
 * anything else is a defect: logged here with the subject and answered as `internal`, so the
 * caller learns nothing about our internals.
 */
export function serve<Req, Res>(
  bus: Bus,
  subject: string,
  handler: (req: Req, msg: BusMessage) => Res | Promise<Res>,
  options: ServeOptions = {},
): Subscription {
  const logger = options.logger ?? silentLogger;
  return bus.subscribe(
    subject,
    async (msg) => {
      let reply: RpcReply<Res>;
      try {
        reply = { ok: true, data: await handler(msg.data as Req, msg) };
      } catch (err) {
        if (!(err instanceof AuroraError)) logger.error('service handler failed', { subject: msg.subject, err });
        reply = { ok: false, error: toErrorPayload(err) };
      }
      msg.respond(reply);
    },
    options.queue === undefined ? undefined : { queue: options.queue },
  );
}

function isReply(value: unknown): value is RpcReply<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  if (v.ok === true) return true;
  // Any string code is accepted: fromPayload turns a code this build does not know into `internal`.
  return (
    v.ok === false &&
    typeof v.error === 'object' &&
    v.error !== null &&
    typeof v.error.code === 'string' &&
    typeof v.error.message === 'string'
  );
}

/** Serves one service operation of runtime/protocol/operations.ts on its subject, typed by the table. */
export function serveOperation<K extends ServiceKey>(
  bus: Bus,
  subjects: Subjects,
  key: K,
  handler: (req: RequestOf<K>, msg: BusMessage) => ReplyOf<K> | Promise<ReplyOf<K>>,
  options: ServeOptions = {},
): Subscription {
  return serve<RequestOf<K>, ReplyOf<K>>(bus, subjects.service(key), handler, options);
}

/** Asks one service operation and returns its reply; a service's error is rethrown as AuroraError. */
export function callOperation<K extends ServiceKey>(
  bus: Bus,
  subjects: Subjects,
  key: K,
  data: RequestOf<K>,
  timeoutMs: number,
): Promise<ReplyOf<K>> {
  return call<ReplyOf<K>>(bus, subjects.service(key), data, timeoutMs);
}
