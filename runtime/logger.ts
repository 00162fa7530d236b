// Structured logs through pino (its one home): one JSON object per line on stderr, so any log
// shipper can read them, or coloured lines for a developer (LOG_FORMAT=pretty). Field names are
// snake_case everywhere (test/unit/log-keys.test.ts holds every call site to it); `time`, `level`
// and `msg` are pino's.
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import { isoNow, systemClock, type Clock } from './clock.js';
import type { LogFormat, LogLevel } from './config.js';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  format?: LogFormat;
  /** Receives each JSON line without its newline; default stderr. Tests capture lines with it. */
  write?: (line: string) => void;
  clock?: Clock;
}

/** `sink` is a line writer (what tests pass) or the options; `clock` stamps `time`. */
export function createLogger(
  level: LogLevel,
  base: LogFields = {},
  sink: LoggerOptions | LoggerOptions['write'] = {},
  clock?: Clock,
): Logger {
  const options: LoggerOptions = typeof sink === 'function' ? { write: sink, clock } : { ...sink, clock: clock ?? sink?.clock };
  return createPinoLogger(level, base, options, options.clock ?? systemClock);
}

function createPinoLogger(level: LogLevel, base: LogFields, options: LoggerOptions, clock: Clock): Logger {
  const { stream, fallbackNote } = destination(options);
  const root = pino(
    {
      level,
      // No pid/hostname: a container's are noise, and the base fields say which process this is.
      base: null,
      messageKey: 'msg',
      timestamp: () => `,"time":"${isoNow(clock)}"`,
      // Level names, not pino's numbers: what LOG_LEVEL says is what a line says.
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  const logger = wrap(Object.keys(base).length === 0 ? root : root.child(serializeErrors(base)));
  if (fallbackNote !== undefined) logger.warn(fallbackNote, { log_format: 'json' });
  return logger;
}

function wrap(p: Pino): Logger {
  // Debug calls sit on hot paths: a disabled level costs one check, not a walk over the fields.
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string, fields?: LogFields) => {
    if (p.isLevelEnabled(level)) p[level](serializeErrors(fields), msg);
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(p.child(serializeErrors(fields))),
  };
}

function destination(options: LoggerOptions): { stream: DestinationStream; fallbackNote?: string } {
  if (options.write !== undefined) {
    const write = options.write;
    return { stream: { write: (chunk: string) => write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) } };
  }
  // Synchronous writes: the last lines before process.exit() (a failed start, a fatal node) must not be lost.
  const stderr = pino.destination({ fd: 2, sync: true });
  if (options.format !== 'pretty') return { stream: stderr };
  try {
    // pino-pretty is a dev dependency; a production image (npm prune --omit=dev) does not have it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as (opts: object) => DestinationStream;
    return { stream: pretty({ destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'service', singleLine: true }) };
  } catch {
    return { stream: stderr, fallbackNote: 'LOG_FORMAT=pretty needs the pino-pretty package (a dev dependency); logging JSON' };
  }
}

/** Errors anywhere in the fields keep their name, message, code and stack (JSON.stringify would drop them). */
function serializeErrors(fields: LogFields | undefined): LogFields {
  if (fields === undefined) return {};
  let out: LogFields | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error) (out ??= { ...fields })[key] = errorFields(value);
  }
  return out ?? fields;
}

function errorFields(err: Error): LogFields {
  const out: LogFields = { name: err.name, message: err.message };
  if ('code' in err) out.code = (err as { code: unknown }).code;
  if (err.stack) out.stack = err.stack;
  return out;
}

export const silentLogger: Logger = createLogger('silent', {}, { write: () => undefined });
