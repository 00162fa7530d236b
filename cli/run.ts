// aurora run <agent> "<prompt>": runs a task over the stream's `execute` op and prints its tokens as
// they arrive (the answer on stdout; tool calls and a summary on stderr when it is a terminal).
// Ctrl-C cancels the task before exiting 130.
import type { Command } from 'commander';
import type { TaskParameters } from '../runtime/protocol/index.js';
import { Interrupted, UsageError } from './exit-codes.js';
import { duration, oneLine, writeJson } from './output.js';
import { naturalInt, positiveInt, type ContextOf } from './context.js';

interface RunOptions {
  system?: string;
  temperature?: string;
  maxTokens?: number;
  timeout?: number;
  retries?: number;
  thread?: string;
}

export function registerRun(program: Command, contextOf: ContextOf): void {
  program
    .command('run <agent> [prompt...]')
    .description('run a task on an agent and stream its answer as it is generated (the prompt may come on stdin)')
    .option('--system <prompt>', 'system prompt for this task')
    .option('--temperature <t>', 'sampling temperature')
    .option('--max-tokens <n>', 'most tokens generated', positiveInt)
    .option('--timeout <ms>', 'longest the task may take, queued and running', positiveInt)
    .option('--retries <n>', 'run again when the agent crashes under it (0-10)', naturalInt)
    .option('--thread <id>', 'continue this thread of the agent')
    .addHelpText('after', '\nExamples:\n  aurora run writer "Say hello"\n  echo "Summarise this" | aurora run writer')
    .action(async (agent: string, words: string[], opts: RunOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { client, json, io } = ctx;
      let prompt = words.join(' ');
      if (prompt === '' && process.stdin.isTTY !== true) prompt = (await readStdin()).trim();
      if (prompt === '') throw new UsageError('a prompt is needed: aurora run <agent> "<prompt>" (or on stdin)');
      const parameters: TaskParameters = {};
      if (opts.system !== undefined) parameters.system = opts.system;
      if (opts.temperature !== undefined) {
        const t = Number(opts.temperature);
        if (opts.temperature.trim() === '' || !Number.isFinite(t)) throw new UsageError(`--temperature must be a number, got "${opts.temperature}"`);
        parameters.temperature = t;
      }
      if (opts.maxTokens !== undefined) parameters.max_tokens = opts.maxTokens;
      if (opts.timeout !== undefined) parameters.timeout_ms = opts.timeout;
      if (opts.retries !== undefined) parameters.retries = opts.retries;

      let taskId: string | undefined;
      let streamed = false;
      const human = !json;
      const onSigint = () => {
        const cancel = taskId === undefined ? Promise.resolve() : client.tasks.cancel(taskId).then(() => undefined, () => undefined);
        void cancel.then(() => interrupt(new Interrupted(taskId === undefined ? 'interrupted' : `interrupted: task ${taskId} cancelled`)));
      };
      let interrupt!: (err: Interrupted) => void;
      const interrupted = new Promise<never>((_resolve, reject) => (interrupt = reject));
      process.once('SIGINT', onSigint);
      try {
        const run = client.stream.execute(
          { agent, prompt, ...(Object.keys(parameters).length > 0 && { parameters }), ...(opts.thread !== undefined && { thread_id: opts.thread }) },
          {
            onSubmitted: (id) => (taskId = id),
            onEvent: (e) => {
              if (!human) return;
              if (e.type === 'task.token' && typeof e.payload.token === 'string') {
                streamed = true;
                io.stdout.write(e.payload.token);
              } else if (e.type === 'task.tool_call' && io.stderr.isTTY === true) {
                if (streamed) io.stdout.write('\n');
                streamed = false;
                io.stderr.write(`→ ${String(e.payload.name)}(${oneLine(JSON.stringify(e.payload.arguments), 80)})\n`);
              }
            },
          },
        );
        const { result } = await Promise.race([run, interrupted]);
        if (json) return writeJson(io, result);
        // An answer that came without tokens (a structured output, a kind that does not stream) is printed whole.
        if (!streamed) io.stdout.write(result.result);
        io.stdout.write('\n');
        if (io.stderr.isTTY === true) {
          io.stderr.write(
            `(${result.agent} · ${result.model} · ${result.completion_tokens} tokens · ${duration(result.duration_ms)} · task ${result.task_id})\n`,
          );
        }
      } catch (err) {
        if (streamed) io.stdout.write('\n'); // the error message starts on a line of its own
        throw err;
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
