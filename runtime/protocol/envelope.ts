// The reply envelope: every answer on the bus is one, so an error crosses the wire as a value
// with its code (runtime/errors.ts maps codes to HTTP statuses) and never as a stack.
import { Type, type Static } from '@sinclair/typebox';

export const ErrorPayload = Type.Object({
  code: Type.String({ description: 'Error code (the error table in README)' }),
  message: Type.String(),
});
export type WireErrorPayload = Static<typeof ErrorPayload>;

export type Reply<T> = { ok: true; data: T } | { ok: false; error: WireErrorPayload };
