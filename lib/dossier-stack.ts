/** The whole of Dossier: storage, agents, the coordinator and the API. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DEFAULT_LLM_MODEL } from '../lambdas/core/pricing';
import { Agents } from './agents';
import { Api } from './api';
import { Storage } from './storage';
import { Workflow } from './workflow';

export interface DossierStackProps extends StackProps {
  llmModel?: string;
  maxConcurrency?: number;
}

export class DossierStack extends Stack {
  readonly storage: Storage;
  readonly agents: Agents;
  readonly workflow: Workflow;
  readonly api: Api;

  constructor(scope: Construct, id: string, props: DossierStackProps = {}) {
    super(scope, id, props);
    this.storage = new Storage(this, 'Storage');
    const { jobsTable, bucket } = this.storage;
    this.agents = new Agents(this, 'Agents', { jobsTable, bucket, searchCacheTable: this.storage.searchCacheTable, llmModel: props.llmModel ?? DEFAULT_LLM_MODEL });
    this.workflow = new Workflow(this, 'Workflow', { agents: this.agents, jobsTable, bucket, maxConcurrency: props.maxConcurrency });
    this.api = new Api(this, 'Api', { jobsTable, bucket, stateMachine: this.workflow.stateMachine });

    new CfnOutput(this, 'ApiUrl', { value: this.api.restApi.url });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'TavilySecretArn', { value: this.agents.tavilySecret.secretArn });
    new CfnOutput(this, 'AnthropicSecretArn', { value: this.agents.anthropicSecret.secretArn });
  }
}
