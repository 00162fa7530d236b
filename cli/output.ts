// How the command line writes: JSON for scripts (--json), aligned columns for people (cli-table3,
// borderless like `ollama list`), and a few formatters. Results go to stdout, everything about
// them (progress, summaries, errors) to stderr.
import Table from 'cli-table3';

export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr };

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '   ',
};

export type Cell = string | number | boolean | null | undefined;

/** Columns under upper-case headings; null and undefined print as "-". */
export function table(head: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const t = new Table({
    head: head.map((h) => h.toUpperCase()),
    chars: NO_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows) t.push(row.map(cell));
  return trimLines(t.toString());
}

/** One record as "key   value" lines. */
export function fields(rows: readonly (readonly [string, Cell])[]): string {
  const t = new Table({ chars: NO_BORDERS, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 } });
  for (const [k, v] of rows) t.push([`${k}:`, cell(v)]);
  return trimLines(t.toString());
}

/** cli-table3 pads the last column; the padding is noise in a terminal and in a pipe. */
function trimLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

function cell(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value);
}

export function writeJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function writeLine(io: Io, text: string): void {
  io.stdout.write(`${text}\n`);
}

/** One line, at most `max` characters, newlines flattened. */
export function oneLine(text: string | null | undefined, max = 60): string {
  if (text === null || text === undefined) return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`;
}

/** An ISO time as "YYYY-MM-DD HH:MM:SS" (UTC, as the server stores it). */
export function time(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '';
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}
