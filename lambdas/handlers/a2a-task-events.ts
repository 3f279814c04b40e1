/**
 * EventBridge: a batch execution of the coordinator state machine ended. The job is closed if the execution ended
 * without reaching MarkJobDone/MarkJobFailed (aborted, timed out); its callback_url is called, signed; and when an
 * A2A task started the job (skill research_companies), that task ends with the job and its webhooks are called.
 */
import { createLegacyAwarePushNotificationSender } from '@a2a-js/sdk/compat/v0_3/server';
import { ServerCallContext } from '@a2a-js/sdk/server';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { coordinatorAgent } from '../a2a/agent-catalog';
import { taskFollowingJob } from '../a2a/job-tasks';
import { documentClient } from '../shared/aws-clients';
import { config } from '../shared/config';
import { logger, tracer } from '../shared/observability';
import { jobIdOfExecution } from '../core/job-layout';
import { jobView } from '../shared/research-jobs';
import { jobStore } from '../shared/stores';
import { deliverJobWebhook, webhookSecret, type WebhookDelivery } from '../shared/webhooks';
import { DynamoPushNotificationStore, DynamoTaskStore } from '../store/a2a-task-store';

type ExecutionStatusChange = EventBridgeEvent<'Step Functions Execution Status Change', { executionArn: string; name: string; status: string }>;

const pick = (d: WebhookDelivery) => ({
  ...(d.last_status_code !== undefined ? { last_status_code: d.last_status_code } : {}),
  ...(d.last_error !== undefined ? { last_error: d.last_error } : {}),
});

async function taskEvents(event: ExecutionStatusChange): Promise<void> {
  const { name, status, executionArn } = event.detail;
  const jobId = jobIdOfExecution(name);
  const jobs = jobStore();
  if (status !== 'SUCCEEDED') {
    // A canceled job is CANCELLED already and a failed one FAILED: only a job still open is closed here.
    await jobs.markEnded(jobId, 'FAILED', `the batch execution ended ${status} (${executionArn})`, new Date());
  }
  const job = await jobs.get(jobId);
  if (!job) return;
  const view = jobView(job, config.bucketName);

  // The job's own webhook (callback_url), signed with its client's secret; an EventBridge retry never re-sends one
  // that was delivered.
  if (job.callback_url && job.submitted_by && job.webhook?.status !== 'delivered') {
    const { webhook: _pending, ...summary } = view;
    const delivery = await deliverJobWebhook(job.callback_url, summary, await webhookSecret(job.submitted_by), config.webhookDelivery);
    await jobs.recordWebhook(jobId, { status: delivery.status, attempts: delivery.attempts, at: delivery.at, ...pick(delivery) });
    logger.info('job webhook', { jobId, status: delivery.status, attempts: delivery.attempts });
  }

  const options = { agent: coordinatorAgent.id };
  const tasks = new DynamoTaskStore(documentClient(), config.tasksTableName, options);
  const owned = await tasks.loadAnyOwner(jobId);
  if (!owned) return; // the job came through the REST API
  const updated = taskFollowingJob(owned.task, view);
  if (!updated) return;
  await tasks.saveForOwner(updated, owned.owner);
  logger.info('batch task ended with its job', { jobId, state: updated.status?.state });

  // The webhooks were registered by the task's owner; the sender reads them in that owner's scope.
  const context = new ServerCallContext({ user: { isAuthenticated: true, userName: owned.owner.owner } });
  if (owned.owner.tenant) context.setTenant(owned.owner.tenant);
  const sender = createLegacyAwarePushNotificationSender(new DynamoPushNotificationStore(documentClient(), config.tasksTableName, options));
  await sender.send(
    { payload: { $case: 'statusUpdate', value: { taskId: updated.id, contextId: updated.contextId, status: updated.status, metadata: undefined } } },
    context,
    updated,
  );
}

export const handler = middy(taskEvents).use(captureLambdaHandler(tracer)).use(injectLambdaContext(logger));
