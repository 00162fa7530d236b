// The `aurora` command line: global flags, the commands (one module per group), and how an outcome
// becomes an exit status. Argument parsing is commander's; every call goes through the typed client.
import { Command, CommanderError, Option } from 'commander';
import { AuroraApiError, DEFAULT_URL, type AuroraClient, type ClientOptions } from '../client/index.js';
import { registerAgents } from './agents.js';
import type { ContextOf, GlobalOptions } from './context.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { registerModels } from './models.js';
import { processIo, type Io } from './output.js';
import { registerRun } from './run.js';
import { registerTail } from './tail.js';
import { registerTasks } from './tasks.js';
import { registerWorkflows } from './workflows.js';

/** What `aurora token` answers (bin/token.ts's runTokenCommand, handed in by bin/cli.ts). */
export interface TokenResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliDeps {
  readonly version: string;
  readonly createClient: (options: Omit<ClientOptions, 'socket'>) => AuroraClient;
  /** Mints a token from the `token` command's arguments. */
  readonly mintToken: (argv: string[]) => Promise<TokenResult>;
  readonly io?: Io;
}

const EXIT_CODES_HELP = `
Exit status:
  0    done
  1    Aurora answered with a client error (4xx: not found, invalid, unauthorized, conflict)
  2    usage: unknown command or option, missing or invalid argument
  3    Aurora unreachable, or a server error (5xx, the stream closed early)
  130  interrupted (Ctrl-C); a running task or pull is cancelled first

Environment:
  AURORA_URL    default for --url (${DEFAULT_URL})
  AURORA_TOKEN  default for --token`;

export function buildProgram(deps: CliDeps): Command {
  const io = deps.io ?? processIo;
  const program = new Command('aurora')
    .description("Aurora's command line: agents, tasks, models, workflows and the live event stream")
    .version(deps.version, '-V, --version')
    .addOption(new Option('--url <url>', "Aurora's address").env('AURORA_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <jwt>', 'bearer token, when the server has AUTH_ENABLED').env('AURORA_TOKEN'))
    .option('--json', 'print JSON (for scripts) instead of tables')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();

  const clients = new Map<string, AuroraClient>();
  const contextOf: ContextOf = (command) => {
    const opts = command.optsWithGlobals<GlobalOptions>();
    const key = `${opts.url}\n${opts.token ?? ''}`;
    let client = clients.get(key);
    if (client === undefined) {
      try {
        new URL(opts.url);
      } catch {
        throw new CommanderError(EXIT.usage, 'aurora.url', `error: --url is not a URL: ${opts.url}`);
      }
      client = deps.createClient({ url: opts.url, ...(opts.token !== undefined && { token: opts.token }) });
      clients.set(key, client);
    }
    return { client, json: opts.json === true, io };
  };

  registerAgents(program, contextOf);
  registerRun(program, contextOf);
  registerTasks(program, contextOf);
  registerModels(program, contextOf);
  registerWorkflows(program, contextOf);
  registerTail(program, contextOf);

  program
    .command('token')
    .description('mint a bearer JWT signed with JWT_SECRET (for a server with AUTH_ENABLED)')
    .requiredOption('--sub <subject>', 'who the token speaks for (its sub claim)')
    .requiredOption('--scope <scopes...>', 'scopes, space- or comma-separated, e.g. "tasks:execute agents:read"')
    .option('--ttl <seconds>', 'lifetime in seconds (default 3600)')
    .addHelpText('after', '\nThe token alone goes to stdout: AURORA_TOKEN=$(aurora token --sub me --scope admin)')
    .action(async (opts: { sub: string; scope: string[]; ttl?: string }) => {
      const scopes = opts.scope.flatMap((s) => s.split(/[\s,]+/)).filter((s) => s !== '');
      const argv = ['--sub', opts.sub, ...scopes.flatMap((s) => ['--scope', s]), ...(opts.ttl === undefined ? [] : ['--ttl', opts.ttl])];
      const result = await deps.mintToken(argv);
      io.stdout.write(result.stdout);
      io.stderr.write(result.stderr);
      // runTokenCommand speaks sysexits (64 usage, 78 configuration); here both are usage.
      if (result.exitCode !== 0) throw new CommanderError(EXIT.usage, 'aurora.token', '');
    });

  return program;
}

/** Runs the command line and answers its exit status; never throws for an expected failure. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const io = deps.io ?? processIo;
  const program = buildProgram(deps);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.ok;
      // commander has printed its own message; ours (a bad --url) have not.
      if (err.code.startsWith('aurora.') && err.message !== '') io.stderr.write(`${err.message}\n`);
      return EXIT.usage;
    }
    const code = exitCodeOf(err);
    if (code === undefined) throw err;
    reportError(io, program.opts<GlobalOptions>().json === true, err as Error);
    return code;
  }
}

function reportError(io: Io, json: boolean, err: Error): void {
  if (json) {
    const body =
      err instanceof AuroraApiError
        ? { error: { status: err.status, ...(err.code !== undefined && { code: err.code }), detail: err.detail } }
        : { error: { detail: err.message } };
    io.stderr.write(`${JSON.stringify(body)}\n`);
    return;
  }
  const status = err instanceof AuroraApiError ? ` (${err.status}${err.code === undefined ? '' : ` ${err.code}`})` : '';
  const detail = err instanceof AuroraApiError ? err.detail : err.message;
  io.stderr.write(`aurora: ${detail}${status}\n`);
}
