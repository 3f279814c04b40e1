/**
 * A batch job started by an A2A task (skill research_companies) runs for minutes to hours after the call that
 * started it. Its task follows the job: reading the task brings its status up to date (progress while the job
 * runs; the results' location when it completes; the reason when it fails), canceling the task stops the job,
 * and when the job's execution ends the same update is applied and pushed to the task's webhooks.
 */
import { TaskState, type ListTasksRequest, type ListTasksResponse, type StreamResponse, type Task } from '@a2a-js/sdk';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';
import { randomUUID } from 'node:crypto';
import type { JobView } from '../core/contracts';
import { agentMessage, dataPart, SKILL_METADATA_KEY } from './skill-executor';

export const BATCH_SKILL = 'research_companies';

export interface JobAccess {
  view(jobId: string): Promise<JobView | undefined>;
  /** Stops the job's execution and records it as canceled. */
  cancel(jobId: string, reason: string): Promise<void>;
}

/** The job a task follows, if it follows one: a batch task's job id is its own id. */
export function followedJobId(task: Task): string | undefined {
  return task.metadata?.[SKILL_METADATA_KEY] === BATCH_SKILL ? task.id : undefined;
}

function progressText(job: JobView): string {
  const { total, completed, failed } = job.progress;
  return `${completed + failed} of ${total} companies done (completed ${completed}, failed ${failed}); job ${job.job_id} is ${job.status.toLowerCase()}`;
}

/** The task brought up to date with its job, or undefined when nothing changed. */
export function taskFollowingJob(task: Task, job: JobView): Task | undefined {
  if (task.status?.state !== TaskState.TASK_STATE_WORKING) return undefined;
  const timestamp = new Date().toISOString();
  const status = (state: TaskState, text: string) => ({ state, message: agentMessage(task.id, task.contextId, text), timestamp });
  switch (job.status) {
    case 'COMPLETED':
      return {
        ...task,
        artifacts: [
          ...task.artifacts,
          { artifactId: randomUUID(), name: BATCH_SKILL, description: 'The batch job, with where its results are', parts: [dataPart(job)], metadata: undefined, extensions: [] },
        ],
        status: status(TaskState.TASK_STATE_COMPLETED, progressText(job)),
      };
    case 'FAILED':
      return { ...task, status: status(TaskState.TASK_STATE_FAILED, `job ${job.job_id} failed: ${job.error ?? 'no reason recorded'}`) };
    case 'CANCELLED':
      return { ...task, status: status(TaskState.TASK_STATE_CANCELED, `job ${job.job_id} was canceled`) };
    default: {
      const text = progressText(job);
      const current = task.status.message?.parts[0]?.content;
      if (current?.$case === 'text' && current.value === text) return undefined;
      return { ...task, status: status(TaskState.TASK_STATE_WORKING, text) };
    }
  }
}

/** A TaskStore whose batch tasks follow their jobs. */
export class JobFollowingTaskStore implements TaskStore {
  constructor(
    private readonly inner: TaskStore,
    private readonly jobs: JobAccess,
  ) {}

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const task = await this.inner.load(taskId, context);
    const jobId = task && followedJobId(task);
    if (!task || !jobId) return task;
    const job = await this.jobs.view(jobId);
    const updated = job && taskFollowingJob(task, job);
    if (!updated) return task;
    await this.inner.save(updated, context);
    return updated;
  }

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const jobId = followedJobId(task);
    if (jobId && task.status?.state === TaskState.TASK_STATE_CANCELED) {
      // The SDK marks a task canceled when no container holds it running; for a batch, stop the job too.
      const before = await this.inner.load(task.id, context);
      if (before?.status?.state === TaskState.TASK_STATE_WORKING) await this.jobs.cancel(jobId, `canceled by A2A task ${task.id}`);
    }
    await this.inner.save(task, context);
  }

  list(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    return this.inner.list(params, context);
  }
}

const TERMINAL = new Set([TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_CANCELED, TaskState.TASK_STATE_REJECTED]);

/**
 * SubscribeToTask for a batch task: no container holds its events (the job runs in Step Functions), so the
 * subscription reads the task (which brings it up to date with its job) every `intervalMs`, streams each change,
 * and ends when the task does, or after `maxMs` (a client subscribes again to go on).
 */
export async function* followJobTask(
  load: () => Promise<Task | undefined>,
  first: Task,
  options: { intervalMs: number; maxMs: number; signal?: AbortSignal },
): AsyncGenerator<StreamResponse> {
  yield { payload: { $case: 'task', value: first } };
  let last = first;
  const deadline = Date.now() + options.maxMs;
  while (!TERMINAL.has(last.status!.state) && Date.now() < deadline && !options.signal?.aborted) {
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    const next = await load();
    if (!next) return;
    for (const artifact of next.artifacts.slice(last.artifacts.length)) {
      yield { payload: { $case: 'artifactUpdate', value: { taskId: next.id, contextId: next.contextId, artifact, append: false, lastChunk: true, metadata: undefined } } };
    }
    if (next.status?.timestamp !== last.status?.timestamp || next.status?.state !== last.status?.state) {
      yield { payload: { $case: 'statusUpdate', value: { taskId: next.id, contextId: next.contextId, status: next.status, metadata: undefined } } };
    }
    last = next;
  }
}
