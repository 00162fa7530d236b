// The tool registry and the tool capability: lookup by name or family prefix, argument validation
// before a tool runs, the agent's settings handed to each tool, and the shape of a tool call.
import { describe, expect, it } from 'vitest';
import type { EffectContext } from '../../actors/kind.js';
import { createManualClock } from '../../runtime/clock.js';
import { AuroraError } from '../../runtime/errors.js';
import {
  createToolRegistry,
  toolCapability,
  type Tool,
  type ToolContext,
  type ToolFamily,
  type ToolSpec,
} from '../../supervisors/capabilities/tools/index.js';

const clock = createManualClock(1_000);

function context(config: Record<string, unknown> = {}, signal = new AbortController().signal): EffectContext {
  return {
    agent: { name: 'helper', agent_type: 'llm', model_name: 'llama2', provider: 'ollama', description: '', config },
    taskId: 'task-1',
    task: { task_id: 'task-1', agent: 'tester', prompt: 'p', parameters: {} },
    deadlineAt: Number.MAX_SAFE_INTEGER,
    signal,
    token: () => {},
  };
}

/** A tool that answers with what it was given, so tests can see arguments and settings. */
function echoTool(name: string, configKey?: string): Tool & { seen: ToolContext[] } {
  const seen: ToolContext[] = [];
  return {
    seen,
    spec: {
      name,
      description: `echoes its arguments (${name})`,
      parameters: {
        type: 'object',
        properties: { word: { type: 'string', minLength: 1 }, times: { type: 'integer', minimum: 1, default: 1 } },
        required: ['word'],
        additionalProperties: false,
      },
    },
    ...(configKey !== undefined && { configKey }),
    run(args, ctx) {
      seen.push(ctx);
      return Promise.resolve(JSON.stringify({ args, settings: ctx.settings }));
    },
  };
}

function agentFamily(agents: string[]): ToolFamily & { calls: Array<{ name: string; settings: unknown }> } {
  const calls: Array<{ name: string; settings: unknown }> = [];
  const parameters = { type: 'object', properties: { prompt: { type: 'string' } }, required: ['prompt'] };
  return {
    calls,
    prefix: 'agent:',
    spec(name): ToolSpec | undefined {
      const agent = name.slice('agent:'.length);
      return agents.includes(agent) ? { name, description: `Ask agent ${agent}`, parameters } : undefined;
    },
    run(name, args, ctx) {
      calls.push({ name, settings: ctx.settings });
      return Promise.resolve(`${name} answers ${String(args.prompt)}`);
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<AuroraError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AuroraError) return err;
    throw err;
  }
  throw new Error('expected the promise to reject');
}

describe('createToolRegistry', () => {
  it('knows its tools and its families by name', () => {
    const registry = createToolRegistry({ clock, tools: [echoTool('echo')], families: [agentFamily(['researcher'])] });
    expect(registry.has('echo')).toBe(true);
    expect(registry.has('agent:researcher')).toBe(true);
    expect(registry.has('agent:nobody')).toBe(false);
    expect(registry.has('other')).toBe(false);
    expect(registry.names()).toEqual(['echo']);
    expect(registry.prefixes()).toEqual(['agent:']);
  });

  it('gives the specs asked for, in that order, and refuses an unknown name', () => {
    const registry = createToolRegistry({ clock, tools: [echoTool('a'), echoTool('b')], families: [agentFamily(['x'])] });
    expect(registry.specs(['agent:x', 'b', 'a']).map((s) => s.name)).toEqual(['agent:x', 'b', 'a']);
    expect(() => registry.specs(['a', 'c'])).toThrow(AuroraError);
    expect(() => registry.specs(['c'])).toThrow('there is no tool named "c" (tools: a, b, agent:…)');
  });

  it('runs a tool with validated arguments (defaults filled in) and the agent settings under its name', async () => {
    const echo = echoTool('echo');
    const registry = createToolRegistry({ clock, tools: [echo] });
    const out = await registry.run('echo', { word: 'hi' }, context({ echo: { loud: true }, other: 1 }));
    expect(JSON.parse(out)).toEqual({ args: { word: 'hi', times: 1 }, settings: { loud: true } });
    expect(echo.seen[0]).toMatchObject({ taskId: 'task-1', clock });
    expect(echo.seen[0]?.agent.name).toBe('helper');
  });

  it('reads settings under configKey when a tool names one', async () => {
    const registry = createToolRegistry({ clock, tools: [echoTool('browser.open', 'browser')] });
    const out = await registry.run('browser.open', { word: 'x' }, context({ browser: { headless: true } }));
    expect(JSON.parse(out)).toMatchObject({ settings: { headless: true } });
  });

  it.each([
    [{}, 'invalid arguments for echo: word is required'],
    [{ word: 3 }, 'invalid arguments for echo: word: must be string'],
    [{ word: '' }, 'invalid arguments for echo: word: must NOT have fewer than 1 characters'],
    [{ word: 'a', loud: true }, 'invalid arguments for echo: loud is not a known field'],
    [{ word: 'a', times: 0 }, 'invalid arguments for echo: times: must be >= 1'],
  ])('refuses the arguments %j before running, naming the field', async (args, message) => {
    const echo = echoTool('echo');
    const err = await failure(createToolRegistry({ clock, tools: [echo] }).run('echo', args, context()));
    expect(err).toMatchObject({ code: 'invalid_request', message });
    expect(echo.seen).toHaveLength(0);
  });

  it('refuses an unknown tool as invalid_request, so the model can pick another', async () => {
    const err = await failure(createToolRegistry({ clock, tools: [echoTool('echo')] }).run('ehco', {}, context()));
    expect(err).toMatchObject({ code: 'invalid_request', message: 'there is no tool named "ehco" (tools: echo)' });
  });

  it('runs a family tool by prefix with its arguments validated and the family settings', async () => {
    const family = agentFamily(['researcher']);
    const registry = createToolRegistry({ clock, families: [family] });
    const config = { agent: { depth: 2 } };
    expect(await registry.run('agent:researcher', { prompt: 'why?' }, context(config))).toBe('agent:researcher answers why?');
    expect(family.calls).toEqual([{ name: 'agent:researcher', settings: { depth: 2 } }]);
    const err = await failure(registry.run('agent:researcher', {}, context()));
    expect(err.message).toBe('invalid arguments for agent:researcher: prompt is required');
    expect((await failure(registry.run('agent:nobody', { prompt: 'x' }, context()))).code).toBe('invalid_request');
  });

  it('does not run once the effect is aborted', async () => {
    const echo = echoTool('echo');
    const controller = new AbortController();
    controller.abort();
    const err = await failure(createToolRegistry({ clock, tools: [echo] }).run('echo', { word: 'a' }, context({}, controller.signal)));
    expect(err.code).toBe('task_cancelled');
    expect(echo.seen).toHaveLength(0);
  });

  it('refuses ambiguous wiring at construction', () => {
    expect(() => createToolRegistry({ clock, tools: [echoTool('a'), echoTool('a')] })).toThrow('two tools are named "a"');
    expect(() => createToolRegistry({ clock, tools: [echoTool('agent:x')], families: [agentFamily([])] })).toThrow(
      'falls under the prefix',
    );
    const overlapping = { ...agentFamily([]), prefix: 'agent:sub:' };
    expect(() => createToolRegistry({ clock, families: [agentFamily([]), overlapping] })).toThrow('overlap');
  });

  it('refuses a tool whose parameter schema does not compile', () => {
    const broken = { ...echoTool('broken'), spec: { name: 'broken', description: '', parameters: { type: 'object', propertiez: {} } } };
    expect(() => createToolRegistry({ clock, tools: [broken] })).toThrow();
  });
});

describe('toolCapability', () => {
  const registry = createToolRegistry({ clock, tools: [echoTool('echo'), echoTool('other')] });

  it('answers a call with its content', async () => {
    const out = await toolCapability(registry)({ name: 'echo', arguments: { word: 'hi' } }, context());
    expect(out).toEqual({ content: JSON.stringify({ args: { word: 'hi', times: 1 } }) });
  });

  it('treats absent arguments as none, and arguments that are not an object as the model’s mistake', async () => {
    const noArgs = await failure(toolCapability(registry)({ name: 'echo' }, context()));
    expect(noArgs.message).toBe('invalid arguments for echo: word is required');
    const notObject = await failure(toolCapability(registry)({ name: 'echo', arguments: '{"word":"hi"}' }, context()));
    expect(notObject).toMatchObject({ code: 'invalid_request', message: 'the arguments of a call to echo must be a JSON object' });
  });

  it('treats a call without a name as a defect of the machine that asked', async () => {
    await expect(toolCapability(registry)({ arguments: {} }, context())).rejects.not.toBeInstanceOf(AuroraError);
  });

  it('refuses a tool the agent was not given when told which ones it was', async () => {
    const capability = toolCapability(registry, { enabled: (agent) => (agent.config.tools as string[] | undefined) ?? [] });
    const config = { tools: ['echo'] };
    expect(await capability({ name: 'echo', arguments: { word: 'a' } }, context(config))).toMatchObject({ content: expect.any(String) });
    const err = await failure(capability({ name: 'other', arguments: { word: 'a' } }, context(config)));
    expect(err).toMatchObject({ code: 'invalid_request', message: 'tool "other" is not enabled for agent helper' });
  });
});
