// Shapes only the HTTP gateway answers with (the rest of its answers are records above).
import { Type } from '@sinclair/typebox';
import { IsoTime } from './common.js';

/** Every error answer: `{"detail": "..."}`. */
export const ErrorBody = Type.Object({ detail: Type.String() });

export const Root = Type.Object({ name: Type.String(), version: Type.String(), status: Type.String() });
export const Health = Type.Object({ status: Type.String(), timestamp: IsoTime(), service: Type.String() });
export const Status = Type.Object({ status: Type.String() });
export const Message = Type.Object({ message: Type.String() });

export const HealthChecks = Type.Object({
  database: Type.Boolean(),
  bus: Type.Boolean(),
  cache: Type.Boolean(),
  llm: Type.Boolean(),
});

export const Ready = Type.Object({
  status: Type.Unsafe<'ready' | 'not_ready'>({ type: 'string', enum: ['ready', 'not_ready'] }),
  checks: HealthChecks,
  timestamp: IsoTime(),
  detail: Type.Optional(Type.String()),
});

/** A body sent as it is (Prometheus exposition, files). */
export const Text = Type.String();
