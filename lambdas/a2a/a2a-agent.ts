/**
 * One Dossier agent as an A2A server: the SDK's request handler with Dossier's task and push-notification stores,
 * the shared skill executor, and cards for the URL it is reached at. Runtime-independent: the Lambda handlers
 * and `npm run serve` give it their stores, their token verifier and their requests.
 */
import { createLegacyAwarePushNotificationSender } from '@a2a-js/sdk/compat/v0_3/server';
import {
  DefaultExecutionEventBusManager,
  DefaultRequestHandler,
  type PushNotificationSender,
  type PushNotificationStore,
  type TaskStore,
} from '@a2a-js/sdk/server';
import type { TokenVerifier } from '../shared/identity';
import type { AgentDescription } from './agent-catalog';
import { agentCard, agentCardJson, legacyAgentCardJson } from './agent-card';
import { handleA2aRequest, type HttpRequest, type HttpResponse } from './a2a-http';
import { SkillExecutor, type SkillImplementation } from './skill-executor';

export interface A2aAgentDependencies {
  taskStore: TaskStore;
  pushStore: PushNotificationStore;
  verifier: TokenVerifier;
  /** Published in the card: where clients get their tokens. */
  tokenUrl: string;
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

export function createA2aAgent(description: AgentDescription, skills: SkillImplementation[], deps: A2aAgentDependencies): A2aAgent {
  const missing = description.skills.filter((contract) => !skills.some((s) => s.contract === contract));
  if (missing.length) throw new Error(`${description.name}: no implementation for ${missing.map((s) => s.id).join(', ')}`);

  const executor = new SkillExecutor(description, skills);
  const pushSender = new TrackedPushSender(createLegacyAwarePushNotificationSender(deps.pushStore));
  // One bus manager for every URL the agent answers on, so CancelTask finds a task running in this container.
  const buses = new DefaultExecutionEventBusManager();
  const identity = { tokenUrl: deps.tokenUrl };
  const endpoints = new Map<string, Parameters<typeof handleA2aRequest>[0]>();

  const endpointFor = (url: string) => {
    let endpoint = endpoints.get(url);
    if (!endpoint) {
      endpoint = {
        requestHandler: new DefaultRequestHandler(agentCard(description, url, identity), deps.taskStore, executor, buses, deps.pushStore, pushSender),
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
