/**
 * The one AgentExecutor every Dossier agent uses: it finds the skill a message is for, reads the skill's input
 * from a data part (or a text part holding JSON, as the seed's older clients send it), validates it with the
 * skill's zod contract, runs the skill, and reports the task's life on the event bus:
 * submitted → working → artifact (a data part) → completed; or rejected (bad input) / failed (the skill failed).
 */
import { randomUUID } from 'node:crypto';
import { Role, TaskState, type Message, type Part } from '@a2a-js/sdk';
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import type { z } from 'zod';
import { describeZodError, type ExtractionSchema } from '../core/contracts';
import { schemaProblem } from '../core/json-schema';
import type { AgentDescription, SkillContract } from './agent-catalog';

/** What a skill's run sees besides its input. */
export interface SkillContext {
  taskId: string;
  contextId: string;
  /** The authenticated caller (the token's subject). */
  caller: string;
  /** Aborted when the task is canceled. */
  signal: AbortSignal;
  /** Publishes a working status with this text: streaming clients see it at once. */
  progress(text: string): void;
}

/**
 * A skill either finishes (its output becomes the task's artifact) or hands its work to something that runs on
 * after this call (a batch job): the task then stays working, with metadata that lets the store follow it.
 */
export type SkillOutcome =
  | { kind: 'completed'; output: unknown }
  | { kind: 'working'; message: string; metadata: Record<string, unknown> };

export interface SkillImplementation {
  contract: SkillContract;
  run(input: any, context: SkillContext): Promise<SkillOutcome>;
}

/** The metadata key a message may use to name the skill it is for. */
export const SKILL_METADATA_KEY = 'skill_id';

export class InputProblem extends Error {
  override readonly name = 'InputProblem';
}

export function textPart(text: string): Part {
  return { content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

export function dataPart(data: unknown): Part {
  return { content: { $case: 'data', value: data }, metadata: undefined, filename: '', mediaType: 'application/json' };
}

export function agentMessage(taskId: string, contextId: string, text: string): Message {
  return {
    messageId: randomUUID(),
    taskId,
    contextId,
    role: Role.ROLE_AGENT,
    parts: [textPart(text)],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

/** The JSON object a message carries: its first data part, else the first text part that parses as a JSON object. */
export function messageInput(message: Message): Record<string, unknown> {
  const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  for (const part of message.parts) {
    if (part.content?.$case === 'data') {
      if (isObject(part.content.value)) return part.content.value;
      throw new InputProblem('the data part must hold a JSON object with the skill\'s input');
    }
  }
  for (const part of message.parts) {
    if (part.content?.$case !== 'text') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(part.content.value);
    } catch {
      continue;
    }
    if (isObject(parsed)) return parsed;
  }
  throw new InputProblem('the message must carry the skill\'s input as a data part, or as a text part holding a JSON object');
}

export function chooseSkill(agent: AgentDescription, skills: SkillImplementation[], message: Message, input: Record<string, unknown>): SkillImplementation {
  const named = message.metadata?.[SKILL_METADATA_KEY] ?? input[SKILL_METADATA_KEY];
  if (named !== undefined) {
    const skill = skills.find((s) => s.contract.id === named);
    if (!skill) {
      throw new InputProblem(`${agent.name} has no skill "${String(named)}"; it has ${skills.map((s) => s.contract.id).join(', ')}`);
    }
    return skill;
  }
  if (skills.length === 1) return skills[0]!;
  const matching = skills.find((s) => s.contract.accepts?.(input));
  if (!matching) throw new InputProblem(`name the skill in the message metadata "${SKILL_METADATA_KEY}": one of ${skills.map((s) => s.contract.id).join(', ')}`);
  return matching;
}

const now = () => new Date().toISOString();

/** How a skill called directly (no state machine around it) retries provider throttling and outages. */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 10_000 };

/** The provider errors worth another try (lambdas/providers/provider-error.ts); a rejected request is not. */
const RETRYABLE = new Set(['ProviderThrottled', 'ProviderUnavailable']);

/**
 * Runs `attempt` until it succeeds, fails with an error that is not worth retrying, or the attempts are spent.
 * Waits grow exponentially with full jitter, as the state machine's Retry policies do.
 */
export async function withProviderRetries<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  onRetry: (error: Error, delayMs: number) => void = () => undefined,
  signal?: AbortSignal,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const e = error as Error;
      if (n >= policy.attempts || !RETRYABLE.has(e.name) || signal?.aborted) throw error;
      const delayMs = Math.round(Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1)));
      onRetry(e, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

export class SkillExecutor implements AgentExecutor {
  private readonly running = new Map<string, { controller: AbortController; contextId: string }>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly agent: AgentDescription,
    private readonly skills: SkillImplementation[],
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  /** Resolves when no task of this executor is still running (a Lambda must not freeze mid-task). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  execute = (requestContext: RequestContext, bus: ExecutionEventBus): Promise<void> => {
    const run = this.run(requestContext, bus);
    this.pending.add(run);
    return run.finally(() => this.pending.delete(run));
  };

  cancelTask = async (taskId: string, bus: ExecutionEventBus): Promise<void> => {
    const running = this.running.get(taskId);
    running?.controller.abort();
    this.running.delete(taskId);
    const contextId = running?.contextId ?? '';
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: { state: TaskState.TASK_STATE_CANCELED, message: agentMessage(taskId, contextId, "canceled at the client's request"), timestamp: now() },
        metadata: undefined,
      }),
    );
    bus.finished();
  };

  private async run(requestContext: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId } = requestContext;
    const message = requestContext.userMessage;
    const status = (state: TaskState, text?: string) =>
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: { state, message: text ? agentMessage(taskId, contextId, text) : undefined, timestamp: now() },
        metadata: undefined,
      });

    // Parsed before anything is published: the task records which skill it runs from its first event on.
    let skill: SkillImplementation | undefined;
    let input: unknown;
    let problem: string | undefined;
    try {
      const raw = messageInput(message);
      skill = chooseSkill(this.agent, this.skills, message, raw);
      const { [SKILL_METADATA_KEY]: _skill, ...fields } = raw;
      const parsed = (skill.contract.input as z.ZodType).safeParse(fields);
      if (parsed.success) {
        input = parsed.data;
        // A schema the agents cannot compile would fail every step later: refuse it now.
        const schema = (parsed.data as { extraction_schema?: ExtractionSchema }).extraction_schema;
        problem = schema && schemaProblem(schema);
      } else problem = `invalid input for ${skill.contract.id}: ${describeZodError(parsed.error)}`;
    } catch (error) {
      if (!(error instanceof InputProblem)) throw error;
      problem = error.message;
    }
    // Every Dossier skill answers in one turn: a message to a task that exists cannot continue it.
    if (requestContext.task) problem = 'this task already ran; send a new message without a taskId';

    bus.publish(
      AgentEvent.task(
        requestContext.task ?? {
          id: taskId,
          contextId,
          status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: now() },
          artifacts: [],
          history: [message],
          metadata: { agent: this.agent.id, ...(skill ? { [SKILL_METADATA_KEY]: skill.contract.id } : {}) },
        },
      ),
    );
    if (problem !== undefined || !skill) {
      bus.publish(status(TaskState.TASK_STATE_REJECTED, problem));
      bus.finished();
      return;
    }

    const controller = new AbortController();
    this.running.set(taskId, { controller, contextId });
    bus.publish(status(TaskState.TASK_STATE_WORKING, `${skill.contract.name}: started`));
    try {
      const context: SkillContext = {
        taskId,
        contextId,
        caller: requestContext.context.user?.userName ?? 'anonymous',
        signal: controller.signal,
        progress: (text) => {
          if (!controller.signal.aborted) bus.publish(status(TaskState.TASK_STATE_WORKING, text));
        },
      };
      const outcome = await withProviderRetries(
        () => skill.run(input, context),
        this.retry,
        (error, delayMs) => context.progress(`${error.name}: ${error.message}; trying again in ${(delayMs / 1000).toFixed(1)} s`),
        controller.signal,
      );
      if (controller.signal.aborted) return; // cancelTask has published the final state
      if (outcome.kind === 'working') {
        bus.publish(
          AgentEvent.statusUpdate({
            taskId,
            contextId,
            status: { state: TaskState.TASK_STATE_WORKING, message: agentMessage(taskId, contextId, outcome.message), timestamp: now() },
            metadata: outcome.metadata,
          }),
        );
      } else {
        bus.publish(
          AgentEvent.artifactUpdate({
            taskId,
            contextId,
            artifact: {
              artifactId: randomUUID(),
              name: skill.contract.id,
              description: `${skill.contract.name}: the skill's output`,
              parts: [dataPart(outcome.output)],
              metadata: undefined,
              extensions: [],
            },
            append: false,
            lastChunk: true,
            metadata: undefined,
          }),
        );
        bus.publish(status(TaskState.TASK_STATE_COMPLETED));
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      const e = error as Error;
      const rejected = e.name === 'InvalidTaskInput' || e.name === 'InputProblem';
      // A refusal speaks to the caller in its own words; a failure keeps its error's name for whoever debugs it.
      bus.publish(rejected ? status(TaskState.TASK_STATE_REJECTED, e.message) : status(TaskState.TASK_STATE_FAILED, `${e.name}: ${e.message}`));
    } finally {
      this.running.delete(taskId);
    }
    bus.finished();
  }
}
