// Server-Sent Events on the wire: the framing of one event, and the sink a streamed response
// writes to. The socket side (backpressure, the bound, aborts) is the uWS adapter's (uws.ts).

/** Where a streamed response writes; the adapter implements it over the connection. */
export interface ResponseSink {
  /** Writes a chunk; false once the stream is over (ended, the client went away, or cut as too slow). */
  write(chunk: string): boolean;
  /** Ends the response. Idempotent. */
  end(): void;
  /** Called once when the stream is over for any reason (end, client gone, cut); at once if it already is. */
  onClose(listener: () => void): void;
}

/** A response whose body is written over time (text/event-stream); starts once the head is written. */
export type ResponseStream = (sink: ResponseSink) => void;

export const EVENT_STREAM_TYPE = 'text/event-stream';

/** Headers of every event stream: never cached or transformed, not buffered by proxies. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': `${EVENT_STREAM_TYPE}; charset=utf-8`,
  'cache-control': 'no-store, no-transform',
  'x-accel-buffering': 'no',
};

/** One event: `id:` (when given), `event:` and one `data:` line of JSON (JSON has no raw newlines). */
export function sseEvent(type: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** True when the client asks for an event stream (`Accept: text/event-stream`). */
export function acceptsEventStream(accept: string | undefined): boolean {
  return accept !== undefined && /(^|[\s,])text\/event-stream(\s*(;|,|$))/i.test(accept);
}

/** The Last-Event-ID a reconnecting client sends: a per-task index, or undefined when absent or not one. */
export function lastEventId(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  return /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : undefined;
}
