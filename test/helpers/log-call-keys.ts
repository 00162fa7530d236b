// Finds the field names passed to Logger calls, with the TypeScript compiler: the receiver must be
// typed as runtime/logger.ts's Logger (whatever the variable is called), and the field names are
// the properties of the fields argument's type (so spreads and variables count too) plus the keys
// of object literals nested in it.
import ts from 'typescript';

const LOG_METHODS = new Set(['debug', 'info', 'warn', 'error']);

export interface LogKey {
  readonly file: string;
  readonly line: number;
  readonly key: string;
}

export interface LogCallScan {
  /** Logger calls seen (log lines and child loggers). */
  readonly calls: number;
  readonly keys: readonly LogKey[];
}

export function scanLogCalls(files: readonly string[], options: ts.CompilerOptions): LogCallScan {
  const program = ts.createProgram({ rootNames: files, options });
  const checker = program.getTypeChecker();
  const wanted = new Set(files.map((f) => ts.sys.resolvePath(f)));
  const keys: LogKey[] = [];
  let calls = 0;

  const isLogger = (receiver: ts.Expression): boolean => {
    const symbol = checker.getTypeAtLocation(receiver).getSymbol() ?? checker.getTypeAtLocation(receiver).aliasSymbol;
    return (
      symbol?.getName() === 'Logger' &&
      (symbol.getDeclarations() ?? []).some((d) => d.getSourceFile().fileName.endsWith('runtime/logger.ts'))
    );
  };

  for (const source of program.getSourceFiles()) {
    if (!wanted.has(ts.sys.resolvePath(source.fileName))) continue;
    const record = (node: ts.Node, key: string) =>
      keys.push({ file: source.fileName, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, key });
    const literalKeys = (node: ts.Node): void => {
      // Arguments of a call inside the fields are that function's input, not log fields; its result's type is checked.
      if (ts.isCallExpression(node) || ts.isFunctionLike(node)) return;
      if (ts.isObjectLiteralExpression(node)) {
        for (const p of node.properties) {
          if ((ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) && p.name !== undefined) {
            if (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) record(p, p.name.text);
          }
        }
      }
      ts.forEachChild(node, literalKeys);
    };
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
        const method = node.expression.name.text;
        const fieldsArg = method === 'child' ? node.arguments[0] : LOG_METHODS.has(method) ? node.arguments[1] : undefined;
        if (fieldsArg !== undefined && isLogger(node.expression.expression)) {
          calls += 1;
          for (const p of checker.getTypeAtLocation(fieldsArg).getProperties()) record(fieldsArg, p.getName());
          literalKeys(fieldsArg);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { calls, keys };
}
