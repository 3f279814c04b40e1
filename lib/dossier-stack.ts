/** The whole of Dossier: storage, the identity, agents, the state machines, the A2A agents and the API. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DEFAULT_MODELS } from '../lambdas/core/pricing';
import { A2a } from './a2a';
import { Agents } from './agents';
import { Api } from './api';
import { Identity, type IdentityProps } from './identity';
import { Monitoring } from './monitoring';
import { Storage } from './storage';
import { Workflow } from './workflow';

export interface DossierStackProps extends StackProps {
  /** The Claude models the tiers choose from (lambdas/core/tiers.ts): Haiku 4.5 and Sonnet 4.6 unless named. */
  llmSmallModel?: string;
  llmLargeModel?: string;
  maxConcurrency?: number;
  /** Tokens from any OIDC issuer instead of the stack's own Cognito user pool. */
  externalIssuer?: IdentityProps['externalIssuer'];
  /** The Cognito domain prefix (globally unique); derived from the account by default. */
  authDomainPrefix?: string;
}

export class DossierStack extends Stack {
  readonly storage: Storage;
  readonly agents: Agents;
  readonly workflow: Workflow;
  readonly api: Api;
  readonly identity: Identity;
  readonly a2a: A2a;

  constructor(scope: Construct, id: string, props: DossierStackProps = {}) {
    super(scope, id, props);
    this.storage = new Storage(this, 'Storage');
    const { jobsTable, bucket } = this.storage;
    this.agents = new Agents(this, 'Agents', {
      jobsTable,
      bucket,
      searchCacheTable: this.storage.searchCacheTable,
      // limits: -c searchRequestsPerMinute=… -c llmRequestsPerMinute=… -c llmInputTokensPerMinute=… -c llmOutputTokensPerMinute=…
      rateLimitsTable: this.storage.rateLimitsTable,
      llmModels: { small: props.llmSmallModel ?? DEFAULT_MODELS.small, large: props.llmLargeModel ?? DEFAULT_MODELS.large },
    });
    this.workflow = new Workflow(this, 'Workflow', { agents: this.agents, jobsTable, bucket, maxConcurrency: props.maxConcurrency });
    this.identity = new Identity(this, 'Identity', { externalIssuer: props.externalIssuer, domainPrefix: props.authDomainPrefix });
    this.a2a = new A2a(this, 'A2a', {
      agents: this.agents,
      workflow: this.workflow,
      identity: this.identity,
      jobsTable,
      tasksTable: this.storage.tasksTable,
      quotasTable: this.storage.quotasTable,
      bucket,
    });
    this.api = new Api(this, 'Api', {
      jobsTable,
      quotasTable: this.storage.quotasTable, // limits: -c rateLimitPerMinute=… -c dailyResearchUnits=…
      bucket,
      stateMachine: this.workflow.stateMachine,
      companyMachine: this.workflow.companyMachine,
      identity: this.identity,
    });
    new Monitoring(this, 'Monitoring', {
      coordinator: this.workflow.stateMachine,
      companyMachine: this.workflow.companyMachine,
      restApi: this.api.restApi,
      functions: {
        Research: this.agents.research,
        Extraction: this.agents.extraction,
        Reflection: this.agents.reflection,
        Storage: this.agents.storage,
        Assemble: this.agents.assemble,
        CoordinatorAgent: this.a2a.coordinator,
      },
      alarmEmail: this.node.tryGetContext('alarmEmail') as string | undefined, // -c alarmEmail=ops@example.com
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.restApi.url });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'TavilySecretArn', { value: this.agents.tavilySecret.secretArn });
    new CfnOutput(this, 'AnthropicSecretArn', { value: this.agents.anthropicSecret.secretArn });
    new CfnOutput(this, 'GeminiSecretArn', { value: this.agents.geminiSecret.secretArn });
    new CfnOutput(this, 'TokenUrl', { value: this.identity.tokenUrl ?? '', description: 'OAuth2 client-credentials token endpoint' });
    if (this.identity.client) {
      new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool!.userPoolId });
      new CfnOutput(this, 'ClientId', { value: this.identity.client.userPoolClientId, description: 'its secret: aws cognito-idp describe-user-pool-client' });
    }
  }
}
