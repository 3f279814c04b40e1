/** An A2A agent as a deployed function runs it: tasks and push configs in DynamoDB, tokens from the configured issuer. */
import type { AgentDescription } from '../a2a/agent-catalog';
import { createA2aAgent, type A2aAgent } from '../a2a/a2a-agent';
import { withPushUrlPolicy } from '../a2a/push-url-policy';
import type { SkillImplementation } from '../a2a/skill-executor';
import { DynamoPushNotificationStore, DynamoTaskStore } from '../store/a2a-task-store';
import { documentClient } from './aws-clients';
import { config } from './config';
import { createTokenVerifier, identityConfigFromEnvironment, type TokenVerifier } from './identity';
import { logger } from './observability';

let verifier: TokenVerifier | undefined;

/** Built on first use, once per container: the verifier caches the issuer's keys, the stores their clients. */
export function lambdaA2aAgent(
  description: AgentDescription,
  skills: () => SkillImplementation[],
  wrapTaskStore: (store: DynamoTaskStore) => import('@a2a-js/sdk/server').TaskStore = (store) => store,
): () => A2aAgent {
  let agent: A2aAgent | undefined;
  return () => {
    verifier ??= createTokenVerifier(identityConfigFromEnvironment());
    agent ??= createA2aAgent(description, skills(), {
      taskStore: wrapTaskStore(new DynamoTaskStore(documentClient(), config.tasksTableName, { agent: description.id })),
      pushStore: withPushUrlPolicy(new DynamoPushNotificationStore(documentClient(), config.tasksTableName, { agent: description.id }), {
        allowPrivate: config.allowPrivatePushUrls,
      }),
      verifier,
      tokenUrl: config.authTokenUrl,
      provider: config.agentProvider,
      jobFollowing: { intervalMs: config.jobPollIntervalMs, maxMs: 14 * 60_000 },
      onError: (message, error) => logger.error(message, { error }),
    });
    return agent;
  };
}
