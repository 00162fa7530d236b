// Structured output: the answer must be JSON matching the effective output_schema. Ollama does not
// enforce `format` reliably across models, so every answer is parsed and validated here.
import { compileUserSchema } from '../../runtime/validation.js';

export type Checked = { ok: true; value: unknown } | { ok: false; errors: string };

export function checkOutput(text: string, schema: Record<string, unknown>): Checked {
  const check = compileUserSchema(schema);
  if (typeof check === 'string') return { ok: false, errors: `output_schema is not a valid JSON Schema: ${check}` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, errors: 'the answer is not valid JSON' };
  }
  const verdict = check(value);
  return verdict.ok ? { ok: true, value } : { ok: false, errors: verdict.errors.join('; ') };
}
