/**
 * The skill executor and the batch-task rules on their own, through the SDK's request handler with its in-memory
 * stores: no HTTP, no AWS. What a caller sees: which skill runs, what input is refused and why, retries of a
 * provider outage, cancellation, and a batch task following its job.
 */
import { Role, TaskState, type Message, type Task } from '@a2a-js/sdk';
import { DefaultRequestHandler, InMemoryTaskStore, ServerCallContext } from '@a2a-js/sdk/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AgentDescription } from '../../lambdas/a2a/agent-catalog';
import { agentCard } from '../../lambdas/a2a/agent-card';
import { followedJobId, taskFollowingJob } from '../../lambdas/a2a/job-tasks';
import { chooseSkill, InputProblem, messageInput, SkillExecutor, withProviderRetries, type SkillImplementation } from '../../lambdas/a2a/skill-executor';
import type { JobView } from '../../lambdas/core/contracts';
import { ProviderError } from '../../lambdas/providers/provider-error';

const user = { isAuthenticated: true, userName: 'client-1' };
const context = () => new ServerCallContext({ user, requestedVersion: '1.0' });

function message(parts: Message['parts'], metadata?: Record<string, unknown>): Message {
  return { messageId: crypto.randomUUID(), contextId: '', taskId: '', role: Role.ROLE_USER, parts, metadata, extensions: [], referenceTaskIds: [] };
}
const data = (value: unknown): Message['parts'][number] => ({ content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' });
const text = (value: string): Message['parts'][number] => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });

const echo = { id: 'echo', name: 'Echo', description: 'answers its input', tags: [], examples: [], input: z.object({ word: z.string().min(1) }), output: z.object({ word: z.string() }), accepts: (i: Record<string, unknown>) => 'word' in i };
const count = { id: 'count', name: 'Count', description: 'counts', tags: [], examples: [], input: z.object({ items: z.array(z.string()) }), output: z.object({ n: z.number() }), accepts: (i: Record<string, unknown>) => 'items' in i };
const agent: AgentDescription = { id: 'research', name: 'Test agent', description: 'for tests', streaming: true, skills: [echo, count] };

function handlerWith(skills: SkillImplementation[]) {
  const store = new InMemoryTaskStore();
  const executor = new SkillExecutor(agent, skills, { attempts: 3, baseDelayMs: 0, maxDelayMs: 0 });
  const handler = new DefaultRequestHandler(agentCard(agent, 'http://agent.test', { tokenUrl: 'http://issuer.test/token' }), store, executor);
  const send = async (msg: Message) => (await handler.sendMessage({ message: msg, configuration: undefined, metadata: undefined, tenant: '' } as any, context())) as Task;
  return { handler, store, executor, send };
}

const statusText = (task: Task) => {
  const part = task.status?.message?.parts[0]?.content;
  return part?.$case === 'text' ? part.value : undefined;
};

describe('reading a message', () => {
  it('takes the first data part, else the first text part holding a JSON object', () => {
    expect(messageInput(message([text('hello'), data({ word: 'a' })]))).toEqual({ word: 'a' });
    expect(messageInput(message([text('not json'), text('{"word":"b"}')]))).toEqual({ word: 'b' });
  });

  it('refuses a message with no object to read, saying what to send', () => {
    expect(() => messageInput(message([text('please research Acme')]))).toThrow(/data part/);
    expect(() => messageInput(message([data([1, 2])]))).toThrow(InputProblem);
  });

  it('chooses the named skill, refuses an unknown one, and otherwise infers it from the input', () => {
    const skills = [echo, count].map((contract) => ({ contract, run: async () => ({ kind: 'completed' as const, output: {} }) }));
    expect(chooseSkill(agent, skills, message([], { skill_id: 'count' }), { word: 'x' }).contract.id).toBe('count');
    expect(() => chooseSkill(agent, skills, message([], { skill_id: 'dance' }), {})).toThrow(/no skill "dance".*echo, count/);
    expect(chooseSkill(agent, skills, message([]), { items: [] }).contract.id).toBe('count');
    expect(() => chooseSkill(agent, skills, message([]), { other: 1 })).toThrow(/skill_id/);
  });
});

describe('running a skill', () => {
  it('completes with the output as a data artifact and records the skill on the task', async () => {
    const { send } = handlerWith([
      { contract: echo, run: async (input) => ({ kind: 'completed', output: { word: input.word.toUpperCase() } }) },
      { contract: count, run: async (input) => ({ kind: 'completed', output: { n: input.items.length } }) },
    ]);
    const task = await send(message([data({ items: ['a', 'b', 'c'] })]));
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(task.metadata).toMatchObject({ skill_id: 'count' });
    expect(task.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'data', value: { n: 3 } });
  });

  it('rejects input that breaks the contract, naming the field', async () => {
    const { send } = handlerWith([
      { contract: echo, run: async () => ({ kind: 'completed', output: {} }) },
      { contract: count, run: async () => ({ kind: 'completed', output: {} }) },
    ]);
    const task = await send(message([data({ word: '' })]));
    expect(task.status?.state).toBe(TaskState.TASK_STATE_REJECTED);
    expect(statusText(task)).toMatch(/invalid input for echo: word/);
  });

  it('retries a provider outage and completes; a rejected request fails at once with its reason', async () => {
    let calls = 0;
    const flaky = handlerWith([
      {
        contract: echo,
        run: async (input) => {
          calls += 1;
          if (calls < 3) throw new ProviderError('ProviderUnavailable', 'tavily', 'HTTP 503');
          return { kind: 'completed', output: input };
        },
      },
      { contract: count, run: async () => ({ kind: 'completed', output: {} }) },
    ]);
    expect((await flaky.send(message([data({ word: 'w' })]))).status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(calls).toBe(3);

    let rejectedCalls = 0;
    const refused = handlerWith([
      {
        contract: echo,
        run: async () => {
          rejectedCalls += 1;
          throw new ProviderError('ProviderRejected', 'anthropic', 'HTTP 401 invalid x-api-key');
        },
      },
      { contract: count, run: async () => ({ kind: 'completed', output: {} }) },
    ]);
    const task = await refused.send(message([data({ word: 'w' })]));
    expect(task.status?.state).toBe(TaskState.TASK_STATE_FAILED);
    expect(statusText(task)).toBe('ProviderRejected: anthropic: HTTP 401 invalid x-api-key');
    expect(rejectedCalls).toBe(1);
  });

  it('gives up after the attempts and reports the last failure', async () => {
    let calls = 0;
    await expect(
      withProviderRetries(async () => {
        calls += 1;
        throw new ProviderError('ProviderThrottled', 'tavily', 'HTTP 429');
      }, { attempts: 4, baseDelayMs: 0, maxDelayMs: 0 }),
    ).rejects.toThrow('tavily: HTTP 429');
    expect(calls).toBe(4);
  });

  it('cancels a running task: it ends canceled even when the skill returns afterwards', async () => {
    let release!: () => void;
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const { handler, executor } = handlerWith([
      {
        contract: echo,
        run: async (input) => {
          markStarted();
          await new Promise<void>((resolve) => (release = resolve));
          return { kind: 'completed', output: input };
        },
      },
      { contract: count, run: async () => ({ kind: 'completed', output: {} }) },
    ]);
    const first = (await handler.sendMessage({ message: message([data({ word: 'w' })]), configuration: { returnImmediately: true } as any, metadata: undefined, tenant: '' } as any, context())) as Task;
    await started;
    const canceled = await handler.cancelTask({ id: first.id, tenant: '' } as any, context());
    expect(canceled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    release();
    await executor.idle();
    const after = await handler.getTask({ id: first.id, tenant: '' } as any, context());
    expect(after.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    expect(after.artifacts).toEqual([]);
  });
});

describe('a batch task following its job', () => {
  const working: Task = {
    id: 'job-1',
    contextId: 'ctx',
    status: { state: TaskState.TASK_STATE_WORKING, message: undefined, timestamp: '2026-11-28T00:00:00Z' },
    artifacts: [],
    history: [],
    metadata: { skill_id: 'research_companies' },
  };
  const job = (status: JobView['status'], completed: number, failed = 0): JobView => ({
    job_id: 'job-1',
    status,
    progress: { total: 10, completed, failed },
    cost_usd: 0,
    created_at: 'x',
    updated_at: 'y',
    ...(status === 'COMPLETED' ? { results: { jsonl: 's3://b/jobs/job-1/results.jsonl', csv: 's3://b/jobs/job-1/results.csv' } } : {}),
    ...(status === 'FAILED' ? { error: 'States.ExceedToleratedFailureThreshold: 2 of 10 items failed' } : {}),
  });

  it('reports progress while the job runs, and changes nothing when nothing moved', () => {
    const updated = taskFollowingJob(working, job('RUNNING', 4, 1))!;
    expect(updated.status?.state).toBe(TaskState.TASK_STATE_WORKING);
    expect(statusText(updated)).toBe('5 of 10 companies done (completed 4, failed 1); job job-1 is running');
    expect(taskFollowingJob(updated, job('RUNNING', 4, 1))).toBeUndefined();
  });

  it("completes with the job (and where its results are) as an artifact, or fails with the job's reason", () => {
    const done = taskFollowingJob(working, job('COMPLETED', 9, 1))!;
    expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(done.artifacts[0]?.parts[0]?.content).toMatchObject({ $case: 'data', value: { results: { jsonl: 's3://b/jobs/job-1/results.jsonl' } } });
    const failed = taskFollowingJob(working, job('FAILED', 3, 2))!;
    expect(failed.status?.state).toBe(TaskState.TASK_STATE_FAILED);
    expect(statusText(failed)).toContain('ExceedToleratedFailureThreshold');
  });

  it('leaves a task that has ended alone; only batch tasks follow a job', () => {
    const ended = { ...working, status: { ...working.status!, state: TaskState.TASK_STATE_CANCELED } };
    expect(taskFollowingJob(ended, job('COMPLETED', 10))).toBeUndefined();
    expect(followedJobId(working)).toBe('job-1');
    expect(followedJobId({ ...working, metadata: { skill_id: 'research_company' } })).toBeUndefined();
  });
});
