// The workflows' template language: text with {{ path }} placeholders and nothing else. A path is
// a root (input, steps, item, index, iteration) followed by .names and [numbers]; there are no
// operators, calls or expressions, so a template can read the run's data and never run code.
import { AuroraError } from '../../runtime/errors.js';

export const TEMPLATE_ROOTS = ['input', 'steps', 'item', 'index', 'iteration'] as const;
export type TemplateRoot = (typeof TEMPLATE_ROOTS)[number];

export type PathSegment = string | number;
export type Part = string | { path: PathSegment[] };

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const SEGMENT = /^(?:\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d{1,6})\])/;
const ROOT = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Parses `input.topics[0].title`; undefined when it is not a path of the language. */
export function parsePath(text: string): PathSegment[] | undefined {
  const root = ROOT.exec(text);
  if (root === null || !(TEMPLATE_ROOTS as readonly string[]).includes(root[0])) return undefined;
  const path: PathSegment[] = [root[0]];
  let rest = text.slice(root[0].length);
  while (rest.length > 0) {
    const m = SEGMENT.exec(rest);
    if (m === null) return undefined;
    path.push(m[1] !== undefined ? m[1] : Number(m[2]));
    rest = rest.slice(m[0].length);
  }
  return path;
}

/** Splits a template into text and paths; throws invalid_request naming what is wrong. */
export function parseTemplate(text: string, where: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    const path = parsePath(m[1]!);
    if (path === undefined) {
      throw new AuroraError(
        'invalid_request',
        `${where}: "{{ ${m[1]} }}" is not a path (use input.x, steps.<id>.output, item, index or iteration)`,
      );
    }
    parts.push({ path });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  if (parts.some((p) => typeof p === 'string' && (p.includes('{{') || p.includes('}}')))) {
    throw new AuroraError('invalid_request', `${where}: unbalanced {{ or }}`);
  }
  return parts;
}

/** The node ids a template reads through `steps.<id>`. */
export function stepReferences(parts: readonly Part[]): string[] {
  const ids: string[] = [];
  for (const p of parts) if (typeof p !== 'string' && p.path[0] === 'steps' && typeof p.path[1] === 'string') ids.push(p.path[1]);
  return ids;
}

/** What a path reads in `scope`; undefined when any part of it is missing. */
export function lookup(scope: Record<string, unknown>, path: readonly PathSegment[]): unknown {
  let value: unknown = scope;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

export function formatPath(path: readonly PathSegment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** Fills a template: strings as they are, anything else as JSON; a missing value is an error. */
export function render(parts: readonly Part[], scope: Record<string, unknown>, where: string): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    const value = lookup(scope, p.path);
    if (value === undefined) throw new AuroraError('invalid_request', `${where}: {{ ${formatPath(p.path)} }} has no value in this run`);
    out += typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}
