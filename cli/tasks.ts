// aurora tasks list|show|cancel
import type { Command } from 'commander';
import type { TaskRecord } from '../runtime/protocol/index.js';
import { duration, fields, oneLine, table, time, writeJson, writeLine } from './output.js';
import { positiveInt, type ContextOf } from './context.js';

export function registerTasks(program: Command, contextOf: ContextOf): void {
  const tasks = program.command('tasks').description('task history: list, show, cancel');

  tasks
    .command('list')
    .alias('ls')
    .description('tasks, newest first')
    .option('--agent <name>', "only this agent's tasks (every agent of that name, deleted ones included)")
    .option('--status <status>', 'only tasks in this status (queued, running, completed, failed, cancelled)')
    .option('--limit <n>', 'at most this many', positiveInt, 20)
    .action(async (opts: { agent?: string; status?: TaskRecord['status']; limit: number }, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const page = await client.tasks.list({ agent: opts.agent, status: opts.status, limit: opts.limit });
      if (json) return writeJson(io, page.tasks);
      if (page.tasks.length === 0) return writeLine(io, 'no tasks');
      writeLine(
        io,
        table(
          ['task', 'agent', 'status', 'created', 'duration', 'tokens', 'prompt'],
          page.tasks.map((t) => [t.task_id, t.agent, t.status, time(t.created_at), duration(t.duration_ms), t.tokens_used, oneLine(t.prompt, 40)]),
        ),
      );
    });

  tasks
    .command('show <id>')
    .description('one task: status, prompt, result or error, timings')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const t = await client.tasks.get(id);
      if (json) return writeJson(io, t);
      writeLine(
        io,
        fields([
          ['task', t.task_id],
          ['agent', t.agent],
          ['status', t.status],
          ['model', t.model === null ? null : `${t.model} (${t.provider ?? '?'})`],
          ['thread', t.thread_id],
          ['created', time(t.created_at)],
          ['started', time(t.started_at)],
          ['completed', time(t.completed_at)],
          ['duration', duration(t.duration_ms)],
          ['tokens', t.tokens_used],
          ['error', t.error === null ? null : `${t.error}${t.error_code === null ? '' : ` (${t.error_code})`}`],
          ['prompt', oneLine(t.prompt, 200)],
        ]),
      );
      if (t.result !== null) writeLine(io, `\n${t.result}`);
    });

  tasks
    .command('cancel <id>')
    .description('cancel a queued or running task (its model call is closed)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const res = await client.tasks.cancel(id);
      if (json) return writeJson(io, res);
      writeLine(io, `task ${res.task_id}: ${res.status}`);
    });
}
