// Raw HTTP/1.1 and WebSocket framing over node:net, for tests that must put bytes on the wire no
// well-behaved client (fetch, ws) would ever send: lying Content-Length, broken chunked encoding,
// invalid UTF-8, control characters in headers, malformed WebSocket frames.
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Keys lower-case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface RawOutcome {
  /** Complete responses read, in order. */
  readonly responses: RawResponse[];
  /** True when the server closed the connection (or reset it) before `expect` responses came. */
  readonly closedByServer: boolean;
  /** Bytes after the last complete response (an unfinished response, or garbage). */
  readonly rest: Buffer;
}

export interface RawRequestOptions {
  /** Responses to wait for before the client closes; default 1. */
  expect?: number;
  /** After writing everything, close the connection at once without reading (a client that gives up). */
  abortAfterWrite?: boolean;
  /** Upper bound of the whole exchange: reaching it rejects with a "hung" error. */
  timeoutMs?: number;
  /** How many of the first responses answer a HEAD: they carry no body whatever their Content-Length says. */
  headResponses?: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Parses as many complete responses as `buf` holds; `final` means the peer has closed. */
function parseResponses(buf: Buffer, final: boolean, headResponses = 0): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf(HEADER_END, at);
    if (end < 0) break;
    const head = buf.subarray(at, end).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
    if (!match) break;
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
    }
    const bodyStart = end + HEADER_END.length;
    const status = Number(match[1]);
    if (status < 200) {
      // An interim answer (100 Continue): the final one follows on the same connection.
      at = bodyStart;
      continue;
    }
    const length = headers['content-length'];
    let bodyEnd: number;
    if (responses.length < headResponses) {
      bodyEnd = bodyStart;
    } else if (length !== undefined) {
      bodyEnd = bodyStart + Number(length);
      if (bodyEnd > buf.length) break;
    } else if (final) {
      // No length: the body runs to the close.
      bodyEnd = buf.length;
    } else {
      break;
    }
    responses.push({ status, headers, body: buf.subarray(bodyStart, bodyEnd) });
    at = bodyEnd;
  }
  return { responses, rest: buf.subarray(at) };
}

/**
 * Writes `parts` in order on one fresh connection (each part its own write, so a test can send a
 * head, then half a body, then stop), then reads until `expect` responses arrived or the server
 * closed the connection.
 */
export function rawRequest(port: number, parts: readonly (string | Buffer)[], options: RawRequestOptions = {}): Promise<RawOutcome> {
  const expect = options.expect ?? 1;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const { responses, rest } = parseResponses(received, closed, options.headResponses);
      resolve({ responses, closedByServer: closed, rest });
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new Error(`server hung: no answer within ${timeoutMs} ms (got ${received.length} bytes)`));
    }, timeoutMs);
    socket.on('connect', () => {
      for (const p of parts) socket.write(p);
      if (options.abortAfterWrite === true) {
        // Let the bytes leave before the reset, so the server sees a request cut mid-way.
        socket.end(() => finish(false));
      }
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (parseResponses(received, false, options.headResponses).responses.length >= expect) finish(false);
    });
    // A reset is the server refusing the connection: the same as a close for the caller.
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** An HTTP/1.1 request head; `headers` are written as given (order kept, nothing added). */
export function requestHead(method: string, target: string, headers: readonly (readonly [string, string])[] = []): string {
  return `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** A complete request with a Content-Length that tells the truth. */
export function requestWithBody(method: string, target: string, body: string | Buffer, headers: readonly (readonly [string, string])[] = []): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([
    Buffer.from(requestHead(method, target, [['Content-Type', 'application/json'], ...headers, ['Content-Length', String(bytes.length)]]), 'utf8'),
    bytes,
  ]);
}

// ---------------------------------------------------------------- WebSocket

export interface RawWebSocket {
  readonly socket: Socket;
  /** Bytes received after the 101 response. */
  readonly frames: Buffer[];
  /** Resolves when the server closes the TCP connection; the close code if a close frame came first. */
  readonly closed: Promise<{ closeCode: number | undefined }>;
  /**
   * Resolves with 'matched' once everything received satisfies `pred`, or 'closed' when the server
   * closes first; rejects when neither happens within `timeoutMs`.
   */
  until(pred: (received: Buffer) => boolean, timeoutMs: number): Promise<'matched' | 'closed'>;
  destroy(): void;
}

/** Opens a WebSocket by hand (a valid upgrade) and hands back the raw socket for broken frames. */
export function rawWebSocket(port: number, path: string, timeoutMs = 5_000): Promise<RawWebSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const key = randomBytes(16).toString('base64');
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    let head = Buffer.alloc(0);
    let upgraded = false;
    let isClosed = false;
    const frames: Buffer[] = [];
    const watchers = new Set<() => void>();
    const until = (pred: (received: Buffer) => boolean, waitMs: number): Promise<'matched' | 'closed'> =>
      new Promise((resolveUntil, rejectUntil) => {
        const check = (): void => {
          const state = pred(Buffer.concat(frames)) ? 'matched' : isClosed ? 'closed' : undefined;
          if (state === undefined) return;
          clearTimeout(deadline);
          watchers.delete(check);
          resolveUntil(state);
        };
        const deadline = setTimeout(() => {
          watchers.delete(check);
          rejectUntil(new Error(`WebSocket neither answered nor closed within ${waitMs} ms`));
        }, waitMs);
        watchers.add(check);
        check();
      });
    let resolveClosed!: (v: { closeCode: number | undefined }) => void;
    const closed = new Promise<{ closeCode: number | undefined }>((r) => (resolveClosed = r));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`WebSocket upgrade not answered within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      socket.write(
        requestHead('GET', path, [
          ['Upgrade', 'websocket'],
          ['Connection', 'Upgrade'],
          ['Sec-WebSocket-Key', key],
          ['Sec-WebSocket-Version', '13'],
        ]),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) {
        frames.push(chunk);
        for (const w of [...watchers]) w();
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(HEADER_END);
      if (end < 0) return;
      const text = head.subarray(0, end).toString('latin1');
      clearTimeout(timer);
      if (!text.startsWith('HTTP/1.1 101') || !text.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
        socket.destroy();
        reject(new Error(`upgrade refused: ${text.split('\r\n')[0]}`));
        return;
      }
      upgraded = true;
      const after = head.subarray(end + HEADER_END.length);
      if (after.length > 0) frames.push(after);
      resolve({ socket, frames, closed, until, destroy: () => socket.destroy() });
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      isClosed = true;
      if (!upgraded) reject(new Error('connection closed before the upgrade'));
      resolveClosed({ closeCode: closeCodeOf(Buffer.concat(frames)) });
      for (const w of [...watchers]) w();
    });
  });
}

export interface ServerFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

/** The complete frames in `bytes` (server frames are unmasked); an unfinished last frame is left out. */
export function decodeFrames(bytes: Buffer): ServerFrame[] {
  const out: ServerFrame[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let len = bytes[at + 1]! & 0x7f;
    let offset = at + 2;
    if (len === 126) {
      if (offset + 2 > bytes.length) break;
      len = bytes.readUInt16BE(offset);
      offset += 2;
    } else if (len === 127) {
      if (offset + 8 > bytes.length) break;
      len = Number(bytes.readBigUInt64BE(offset));
      offset += 8;
    }
    if (offset + len > bytes.length) break;
    out.push({ opcode, payload: bytes.subarray(offset, offset + len) });
    at = offset + len;
  }
  return out;
}

/** The code of the first close frame among server frames: 1005 when it carries none, undefined without one. */
export function closeCodeOf(bytes: Buffer): number | undefined {
  const close = decodeFrames(bytes).find((f) => f.opcode === 0x8);
  if (close === undefined) return undefined;
  return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
}

export interface FrameSpec {
  fin?: boolean;
  /** The three reserved bits, 0-7. */
  rsv?: number;
  opcode: number;
  payload?: Buffer;
  /** Clients must mask; false builds the unmasked frame a server would send. */
  masked?: boolean;
  /** Writes this length in the header instead of the payload's real one. */
  declaredLength?: bigint;
}

/** One WebSocket frame, built bit by bit so any field can be wrong. */
export function frame(spec: FrameSpec): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0);
  const masked = spec.masked ?? true;
  const length = spec.declaredLength ?? BigInt(payload.length);
  const first = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 0x7) << 4) | (spec.opcode & 0x0f);
  const maskBit = masked ? 0x80 : 0;
  let header: Buffer;
  if (length < 126n) {
    header = Buffer.from([first, maskBit | Number(length)]);
  } else if (length < 65_536n) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(length), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(length, 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  const mask = randomBytes(4);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, body]);
}
