// The fake Ollama's structured-output answers: a value that a JSON Schema validator accepts, built
// from the words of the input, the same for the same input.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { sampleForSchema } from '../fixtures/schema-sample.js';

const ajv = new Ajv2020({ strict: false });
const words = ['plan', 'a', 'trip', 'to', 'Lisbon'];

const schemas: [string, Record<string, unknown>][] = [
  ['a flat object with required properties', {
    type: 'object',
    properties: { name: { type: 'string' }, age: { type: 'integer' }, score: { type: 'number' }, ok: { type: 'boolean' } },
    required: ['name', 'age', 'score', 'ok'],
    additionalProperties: false,
  }],
  ['bounds on numbers and strings', {
    type: 'object',
    properties: {
      small: { type: 'integer', minimum: 10, maximum: 12 },
      tight: { type: 'number', exclusiveMinimum: 100, exclusiveMaximum: 101 },
      long: { type: 'string', minLength: 12 },
      short: { type: 'string', maxLength: 2 },
    },
    required: ['small', 'tight', 'long', 'short'],
  }],
  ['arrays, nested objects, enum, const and nullable types', {
    type: 'object',
    properties: {
      stops: { type: 'array', minItems: 2, items: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      mode: { enum: ['train', 'plane'] },
      version: { const: 2 },
      note: { type: ['string', 'null'] },
      none: { type: 'null' },
    },
    required: ['stops', 'mode', 'version', 'note', 'none'],
  }],
  ['anyOf, oneOf and allOf', {
    type: 'object',
    properties: {
      either: { anyOf: [{ type: 'null' }, { type: 'integer', minimum: 50 }] },
      one: { oneOf: [{ type: 'string', maxLength: 3 }] },
      both: { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { properties: { b: { type: 'boolean' } }, required: ['b'] }] },
    },
    required: ['either', 'one', 'both'],
  }],
  ['$ref into $defs, as pydantic writes it', {
    $defs: { Stop: { type: 'object', properties: { city: { type: 'string' }, nights: { type: 'integer', minimum: 1 } }, required: ['city', 'nights'] } },
    type: 'object',
    properties: { stops: { type: 'array', items: { $ref: '#/$defs/Stop' } } },
    required: ['stops'],
  }],
  ['a recursive $ref', {
    $defs: { Node: { type: 'object', properties: { label: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/Node' } } }, required: ['label'] } },
    $ref: '#/$defs/Node',
  }],
  ['an object without a required list (every property filled)', { type: 'object', properties: { x: { type: 'string' }, y: { type: 'integer' } } }],
  ['a bare array of strings', { type: 'array', items: { type: 'string' } }],
];

describe('sampleForSchema', () => {
  it.each(schemas)('gives a valid value for %s', (_title, schema) => {
    const value = sampleForSchema(schema, words);
    const validate = ajv.compile(schema);
    expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
  });

  it('fills every property when the schema lists no required ones', () => {
    expect(sampleForSchema({ type: 'object', properties: { x: { type: 'string' }, y: { type: 'integer' } } }, words)).toEqual({ x: 'plan', y: 1 });
  });

  it('is the same for the same words and follows the words when they change', () => {
    const schema = schemas[0]![1];
    expect(sampleForSchema(schema, words)).toEqual(sampleForSchema(schema, [...words]));
    expect(sampleForSchema(schema, words)).toEqual({ name: 'plan', age: 1, score: 4.5, ok: true });
    expect(sampleForSchema(schema, ['Porto', 'by', 'night'])).toEqual({ name: 'Porto', age: 2, score: 5.5, ok: false });
  });
});
