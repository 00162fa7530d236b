// aurora workflows list|show and aurora runs list|show
import type { Command } from 'commander';
import type { TaskStatus } from '../runtime/protocol/index.js';
import { duration, fields, oneLine, table, time, writeJson, writeLine } from './output.js';
import { positiveInt, type ContextOf } from './context.js';

export function registerWorkflows(program: Command, contextOf: ContextOf): void {
  const workflows = program.command('workflows').description('workflow definitions: list, show');

  workflows
    .command('list')
    .alias('ls')
    .description('workflows (their current versions) by name')
    .option('--limit <n>', 'at most this many', positiveInt)
    .action(async (opts: { limit?: number }, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const page = await client.workflows.list({ limit: opts.limit });
      if (json) return writeJson(io, page.workflows);
      if (page.workflows.length === 0) return writeLine(io, 'no workflows');
      writeLine(
        io,
        table(
          ['name', 'version', 'updated', 'description'],
          page.workflows.map((w) => [w.name, w.version, time(w.updated_at), oneLine(w.description, 60)]),
        ),
      );
    });

  workflows
    .command('show <name>')
    .description('a workflow: its current version, or --version N')
    .option('--version <n>', 'this version', positiveInt)
    .action(async (name: string, opts: { version?: number }, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const w = await client.workflows.get(name, opts.version);
      if (json) return writeJson(io, w);
      writeLine(
        io,
        fields([
          ['name', w.name],
          ['version', w.version],
          ['description', w.description],
          ['created', time(w.created_at)],
          ['updated', time(w.updated_at)],
          ['input schema', w.input_schema === null ? null : JSON.stringify(w.input_schema)],
        ]),
      );
      writeLine(io, `\ngraph:\n${JSON.stringify(w.graph, null, 2)}`);
    });

  const runs = program.command('runs').description('workflow runs: list, show');

  runs
    .command('list')
    .alias('ls')
    .description('runs, newest first')
    .option('--workflow <name>', 'only runs of this workflow')
    .option('--status <status>', 'only runs in this status')
    .option('--limit <n>', 'at most this many', positiveInt, 20)
    .action(async (opts: { workflow?: string; status?: TaskStatus; limit: number }, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const page = await client.runs.list({
        workflow: opts.workflow,
        status: opts.status,
        limit: opts.limit,
      });
      if (json) return writeJson(io, page.runs);
      if (page.runs.length === 0) return writeLine(io, 'no runs');
      writeLine(
        io,
        table(
          ['run', 'workflow', 'version', 'status', 'created', 'duration', 'tokens'],
          page.runs.map((r) => [r.run_id, r.workflow, r.version, r.status, time(r.created_at), duration(r.duration_ms), r.tokens]),
        ),
      );
    });

  runs
    .command('show <id>')
    .description('a run and every step it ran')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const r = await client.runs.get(id);
      if (json) return writeJson(io, r);
      writeLine(
        io,
        fields([
          ['run', r.run_id],
          ['workflow', `${r.workflow} v${r.version}`],
          ['status', r.status],
          ['parent run', r.parent_run_id],
          ['created', time(r.created_at)],
          ['duration', duration(r.duration_ms)],
          ['tokens', r.tokens],
          ['error', r.error === null ? null : `${r.error}${r.error_code === null ? '' : ` (${r.error_code})`}`],
          ['output', r.output === undefined ? null : oneLine(typeof r.output === 'string' ? r.output : JSON.stringify(r.output), 200)],
        ]),
      );
      if (r.steps.length > 0) {
        writeLine(
          io,
          `\n${table(
            ['step', 'type', 'status', 'attempts', 'agent', 'tokens', 'error'],
            r.steps.map((s) => [s.path.join(' / '), s.type, s.status, s.attempts, s.agent, s.tokens, oneLine(s.error, 60)]),
          )}`,
        );
      }
    });
}
