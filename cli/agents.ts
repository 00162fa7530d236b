// aurora agents list|create|show|delete
import type { Command } from 'commander';
import type { AgentRecord } from '../runtime/protocol/index.js';
import { UsageError } from './exit-codes.js';
import { fields, table, time, writeJson, writeLine } from './output.js';
import { positiveInt, type ContextOf } from './context.js';

export function registerAgents(program: Command, contextOf: ContextOf): void {
  const agents = program.command('agents').description('list, create, show and delete agents');

  agents
    .command('list')
    .alias('ls')
    .description('agents with their live status')
    .option('--status <status>', 'only agents in this status (idle, running, restarting, failed, stopped)')
    .option('--kind <kind>', 'only agents of this kind (agent_type)')
    .option('--model <model>', 'only agents on this model')
    .option('--limit <n>', 'at most this many', positiveInt)
    .action(async (opts: { status?: AgentRecord['status']; kind?: string; model?: string; limit?: number }, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const page = await client.agents.list({ status: opts.status, kind: opts.kind, model: opts.model, limit: opts.limit });
      if (json) return writeJson(io, page.agents);
      if (page.agents.length === 0) return writeLine(io, 'no agents (create one: aurora agents create <name> --model <model>)');
      writeLine(
        io,
        table(
          ['name', 'kind', 'model', 'provider', 'status', 'last run'],
          page.agents.map((a) => [a.name, a.agent_type, a.model_name, a.provider, a.status, time(a.last_run)]),
        ),
      );
      if (page.next_cursor !== null) io.stderr.write('(more agents: narrow the list with --status, --kind or --model, or use the API\'s cursor)\n');
    });

  agents
    .command('create <name>')
    .description('define an agent (its actor starts at once)')
    .option('--model <model>', 'model it runs on', 'llama2')
    .option('--kind <kind>', 'agent kind (agent_type)', 'llm')
    .option('--provider <provider>', 'LLM provider', 'ollama')
    .option('--description <text>', 'what it is for')
    .option('--system <prompt>', "system prompt (the llm kind's config.system)")
    .option('--config <json>', "the kind's config as a JSON object (merged under --system)")
    .action(
      async (
        name: string,
        opts: { model: string; kind: string; provider: string; description?: string; system?: string; config?: string },
        cmd: Command,
      ) => {
        const { client, json, io } = contextOf(cmd);
        let config: Record<string, unknown> | undefined;
        if (opts.config !== undefined) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(opts.config);
          } catch (err) {
            throw new UsageError(`--config is not JSON: ${(err as Error).message}`);
          }
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--config must be a JSON object');
          config = parsed as Record<string, unknown>;
        }
        if (opts.system !== undefined) config = { ...config, system: opts.system };
        const agent = await client.agents.create({
          name,
          agent_type: opts.kind,
          provider: opts.provider,
          model_name: opts.model,
          ...(opts.description !== undefined && { description: opts.description }),
          ...(config !== undefined && { config }),
        });
        if (json) return writeJson(io, agent);
        writeLine(io, `created agent ${agent.name} (${agent.agent_type}, ${agent.model_name} on ${agent.provider})`);
      },
    );

  agents
    .command('show <name>')
    .description('one agent: definition, status, tasks running and queued, whether its model is installed')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const a = await client.agents.get(name);
      if (json) return writeJson(io, a);
      writeLine(
        io,
        fields([
          ['name', a.name],
          ['id', a.agent_id],
          ['kind', a.agent_type],
          ['model', a.model_name],
          ['provider', a.provider],
          ['model installed', a.model_installed === undefined || a.model_installed === null ? 'unknown' : a.model_installed ? 'yes' : 'no'],
          ['status', a.status],
          ['running tasks', a.running_tasks],
          ['queued tasks', a.queued_tasks],
          ['created', time(a.created_at)],
          ['last run', time(a.last_run)],
          ['description', a.description],
          ['config', JSON.stringify(a.config)],
        ]),
      );
    });

  agents
    .command('delete <name>')
    .alias('rm')
    .description('stop and forget an agent; its tasks and threads stay readable unless --purge')
    .option('--purge', 'delete its tasks and threads too')
    .action(async (name: string, opts: { purge?: boolean }, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const res = await client.agents.delete(name, { purge: opts.purge === true });
      if (json) return writeJson(io, res);
      const purged = res.tasks_deleted === undefined ? '' : ` (${res.tasks_deleted} tasks and ${res.threads_deleted ?? 0} threads deleted)`;
      writeLine(io, `deleted agent ${name}${purged}`);
    });
}
