/**
 * One Dossier agent as an A2A server: the SDK's request handler with Dossier's task and push-notification stores,
 * the shared skill executor, and cards for the URL it is reached at. Runtime-independent: the Lambda handlers
 * and `npm run serve` give it their stores, their token verifier and their requests.
 */
import { createLegacyAwarePushNotificationSender } from '@a2a-js/sdk/compat/v0_3/server';
import { TaskState, type StreamResponse, type SubscribeToTaskRequest } from '@a2a-js/sdk';
import {
  DefaultExecutionEventBusManager,
  DefaultRequestHandler,
  type PushNotificationSender,
  type PushNotificationStore,
  type ServerCallContext,
  type TaskStore,
} from '@a2a-js/sdk/server';
import type { TokenVerifier } from '../shared/identity';
import type { AgentDescription } from './agent-catalog';
import { agentCard, agentCardJson, legacyAgentCardJson } from './agent-card';
import { handleA2aRequest, type HttpRequest, type HttpResponse } from './a2a-http';
import { followedJobId, followJobTask } from './job-tasks';
import { SkillExecutor, type SkillImplementation } from './skill-executor';

export interface A2aAgentDependencies {
  taskStore: TaskStore;
  pushStore: PushNotificationStore;
  verifier: TokenVerifier;
  /** Published in the card: where clients get their tokens. */
  tokenUrl: string;
  /** Published in the card: who runs the deployment (A2A's AgentProvider); none by default. */
  provider?: { organization: string; url: string };
  /** How often a subscription to a batch task reads its job, and for how long at most (a streaming Lambda runs 15 min). */
  jobFollowing?: { intervalMs: number; maxMs: number };
  onError?: (message: string, error: unknown) => void;
}

export interface A2aAgent {
  description: AgentDescription;
  /** Answers one HTTP request; `url` is the agent's public base URL (what the card names). */
  handle(request: HttpRequest, url: string): Promise<HttpResponse>;
  /** Resolves when no task is running and no push notification is in flight. */
  idle(): Promise<void>;
}

/** The SDK sends push notifications without waiting for them; a Lambda must, or a frozen container loses them. */
class TrackedPushSender implements PushNotificationSender {
  readonly inFlight = new Set<Promise<void>>();
  constructor(private readonly inner: PushNotificationSender) {}
  send: PushNotificationSender['send'] = (...args) => {
    const sending = this.inner.send(...args).finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
    return sending;
  };
}

/**
 * The SDK's handler, with one addition: SubscribeToTask on a batch task that no container is running follows the
 * task's job (lambdas/a2a/job-tasks.ts) instead of answering with one snapshot.
 */
class DossierRequestHandler extends DefaultRequestHandler {
  constructor(
    card: ConstructorParameters<typeof DefaultRequestHandler>[0],
    private readonly tasks: TaskStore,
    executor: SkillExecutor,
    private readonly buses: DefaultExecutionEventBusManager,
    pushStore: PushNotificationStore,
    pushSender: PushNotificationSender,
    private readonly following: { intervalMs: number; maxMs: number },
  ) {
    super(card, tasks, executor, buses, pushStore, pushSender);
  }

  override async *resubscribe(params: SubscribeToTaskRequest, context: ServerCallContext): AsyncGenerator<StreamResponse, void, undefined> {
    if (!this.buses.getByTaskId(params.id, context)) {
      const task = await this.tasks.load(params.id, context);
      if (task && followedJobId(task) && task.status?.state === TaskState.TASK_STATE_WORKING) {
        yield* followJobTask(() => this.tasks.load(params.id, context), task, this.following);
        return;
      }
    }
    yield* super.resubscribe(params, context);
  }
}

export function createA2aAgent(description: AgentDescription, skills: SkillImplementation[], deps: A2aAgentDependencies): A2aAgent {
  const missing = description.skills.filter((contract) => !skills.some((s) => s.contract === contract));
  if (missing.length) throw new Error(`${description.name}: no implementation for ${missing.map((s) => s.id).join(', ')}`);

  const executor = new SkillExecutor(description, skills);
  const pushSender = new TrackedPushSender(createLegacyAwarePushNotificationSender(deps.pushStore));
  // One bus manager for every URL the agent answers on, so CancelTask finds a task running in this container.
  const buses = new DefaultExecutionEventBusManager();
  const identity = { tokenUrl: deps.tokenUrl, provider: deps.provider };
  const endpoints = new Map<string, Parameters<typeof handleA2aRequest>[0]>();

  const endpointFor = (url: string) => {
    let endpoint = endpoints.get(url);
    if (!endpoint) {
      endpoint = {
        requestHandler: new DossierRequestHandler(
          agentCard(description, url, identity),
          deps.taskStore,
          executor,
          buses,
          deps.pushStore,
          pushSender,
          deps.jobFollowing ?? { intervalMs: 2_000, maxMs: 14 * 60_000 },
        ),
        cards: { v1: agentCardJson(description, url, identity), legacy: legacyAgentCardJson(description, url, identity) },
        verifier: deps.verifier,
        onError: deps.onError,
      };
      endpoints.set(url, endpoint);
    }
    return endpoint;
  };

  return {
    description,
    handle: (request, url) => handleA2aRequest(endpointFor(url), request),
    async idle() {
      await executor.idle();
      while (pushSender.inFlight.size) await Promise.allSettled([...pushSender.inFlight]);
    },
  };
}
