// aurora tail: the live event stream, filtered like the stream's own query (agents, types, tasks,
// runs; `*` wildcards), one line per event, or one JSON object per line with --json.
import type { Command } from 'commander';
import type { StreamEvent } from '../client/index.js';
import { isStreamEvent } from '../client/index.js';
import { AuroraConnectionError } from '../client/index.js';
import { oneLine } from './output.js';
import { list, naturalInt, positiveInt, type ContextOf } from './context.js';

interface TailOptions {
  agents?: string[];
  types?: string[];
  tasks?: string[];
  runs?: string[];
  since?: number;
  count?: number;
}

/** Close code of a gateway shutting down. */
const GOING_AWAY = 1001;

export function registerTail(program: Command, contextOf: ContextOf): void {
  program
    .command('tail')
    .description('follow the live event stream until Ctrl-C')
    .option('--agents <names>', 'only these agents (comma-separated, * wildcards)', list)
    .option('--types <types>', 'only these event types (comma-separated, * wildcards: task.*)', list)
    .option('--tasks <ids>', 'only these tasks (comma-separated)', list)
    .option('--runs <ids>', 'only these workflow runs, each with everything below it (comma-separated)', list)
    .option('--since <seq>', 'first replay the events after this seq still in the window', naturalInt)
    .option('--count <n>', 'exit after this many events', positiveInt)
    .addHelpText('after', '\nExamples:\n  aurora tail --agents writer --types "task.*"\n  aurora tail --json --types "supervisor.*" | jq .')
    .action(async (opts: TailOptions, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      let seen = 0;
      let stop!: () => void;
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      const connection = await client.stream.connect(
        { agents: opts.agents, types: opts.types, tasks: opts.tasks, runs: opts.runs, since: opts.since },
        (m) => {
          if (opts.count !== undefined && seen >= opts.count) return;
          if (m.type === 'replay.gap') {
            io.stderr.write(`(events before seq ${'oldest_seq' in m ? m.oldest_seq : '?'} are no longer in the window)\n`);
            return;
          }
          if (!isStreamEvent(m)) return;
          seen++;
          io.stdout.write(json ? `${JSON.stringify(m)}\n` : `${eventLine(m)}\n`);
          if (opts.count !== undefined && seen >= opts.count) stop();
        },
      );
      const filters = (['agents', 'types', 'tasks', 'runs'] as const)
        .filter((k) => opts[k] !== undefined)
        .map((k) => `${k}=${opts[k]!.join(',')}`)
        .join(' ');
      io.stderr.write(`following ${client.url}${filters === '' ? '' : ` (${filters})`}; Ctrl-C to stop\n`);
      const onSigint = () => stop();
      process.once('SIGINT', onSigint);
      try {
        const ended = await Promise.race([stopped.then(() => null), connection.closed]);
        if (ended !== null) {
          const why = ended.code === GOING_AWAY ? 'the server is shutting down' : `closed ${ended.code}${ended.reason === '' ? '' : ` ${ended.reason}`}`;
          throw new AuroraConnectionError(client.url, `the event stream ended: ${why}`);
        }
      } finally {
        process.removeListener('SIGINT', onSigint);
        connection.close();
      }
    });
}

/** `12:04:05.123  #42  task.completed  writer  0193…  {payload}` */
function eventLine(e: StreamEvent): string {
  const clock = e.time.slice(11, 23);
  const token = e.type === 'task.token' && typeof e.payload.token === 'string' ? JSON.stringify(e.payload.token) : undefined;
  const parts = [clock, `#${e.seq}`, e.type, e.agent ?? '-', e.task_id ?? '-'];
  if (e.path !== undefined) parts.push(e.path.join('/'));
  parts.push(token ?? oneLine(JSON.stringify(e.payload), 160));
  return parts.join('  ');
}
