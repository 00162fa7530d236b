// The messages Aurora's code can build, read from its source: every string and template literal
// (and `+` chains of them) in the folders that answer requests, as a pattern where each `${…}` or
// non-literal operand may be anything. Documentation that quotes a `{"detail"}` is checked against
// these, so a reworded error in the code makes the quote fail instead of quietly going stale.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIRS = ['gateway', 'runtime', 'supervisors', 'actors'];
/** Files of examples, not of messages: a quote must not be confirmed by the quote itself. */
const NOT_MESSAGES = new Set(['gateway/error-examples.ts', 'runtime/protocol/examples.ts']);
/**
 * A pattern with a placeholder must keep this many literal characters: `${a}: ${b}` would match any
 * quote at all, while `${field} is required` (12) still pins the wording.
 */
const MIN_LITERAL_CHARS = 12;

export interface CodeMessage {
  /** file:line of the literal. */
  readonly where: string;
  /** The literal with `…` for each placeholder, for failure messages. */
  readonly text: string;
  readonly pattern: RegExp;
}

const HOLE = Symbol('hole');
type Part = string | typeof HOLE;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return tsFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

function isConcat(node: ts.Node): node is ts.BinaryExpression {
  return ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken;
}

/** The literal parts of a string expression, or undefined when it is not one. */
function partsOf(node: ts.Node): Part[] | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isTemplateExpression(node)) return [node.head.text, ...node.templateSpans.flatMap((s): Part[] => [HOLE, s.literal.text])];
  if (ts.isParenthesizedExpression(node)) return partsOf(node.expression);
  if (isConcat(node)) {
    const left = partsOf(node.left);
    const right = partsOf(node.right);
    if (left === undefined && right === undefined) return undefined;
    return [...(left ?? [HOLE]), ...(right ?? [HOLE])];
  }
  return undefined;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function toMessage(parts: readonly Part[], where: string): CodeMessage | undefined {
  const literal = parts.filter((p): p is string => p !== HOLE).join('');
  const holes = parts.some((p) => p === HOLE);
  if (literal.trim() === '' || (holes && literal.length < MIN_LITERAL_CHARS)) return undefined;
  const source = parts.map((p) => (p === HOLE ? '[\\s\\S]*' : escape(p))).join('');
  return {
    where,
    text: parts.map((p) => (p === HOLE ? '…' : p)).join(''),
    pattern: new RegExp(`^${source}$`),
  };
}

let cached: readonly CodeMessage[] | undefined;

export function codeMessages(): readonly CodeMessage[] {
  if (cached !== undefined) return cached;
  const out: CodeMessage[] = [];
  for (const dir of SOURCE_DIRS) {
    for (const file of tsFiles(path.join(ROOT, dir))) {
      if (NOT_MESSAGES.has(path.relative(ROOT, file).split(path.sep).join('/'))) continue;
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
      const visit = (node: ts.Node): void => {
        // A chain `a + b + c` is one message: take it whole at its top, not each of its pieces.
        const inChain = node.parent !== undefined && isConcat(node.parent);
        const parts = inChain ? undefined : partsOf(node);
        if (parts !== undefined) {
          const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
          const message = toMessage(parts, `${path.relative(ROOT, file)}:${line}`);
          if (message !== undefined) out.push(message);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
  }
  cached = out;
  return out;
}

/** The code message `detail` is an instance of, if any. `…` in a quote stands for what varies. */
export function messageFor(detail: string): CodeMessage | undefined {
  return codeMessages().find((m) => m.pattern.test(detail));
}
