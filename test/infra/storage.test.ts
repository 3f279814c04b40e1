/** The Storage construct on its own: the A2A tasks table as the DynamoDB task store expects it. */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { JOBS_BY_CLIENT_INDEX as jobsIndexOfStore } from '../../lambdas/store/job-store';
import { TASKS_BY_OWNER_INDEX as tasksIndexOfStore } from '../../lambdas/store/a2a-task-store';
import { JOBS_BY_CLIENT_INDEX, Storage, TASKS_BY_OWNER_INDEX } from '../../lib/storage';

let template: Template;

beforeAll(() => {
  const app = new App();
  const stack = new Stack(app, 'StorageTest');
  new Storage(stack, 'Storage');
  template = Template.fromStack(stack);
});

const tasksTableKeys = {
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
};

describe('tasks table', () => {
  it('is on demand, encrypted with the AWS-managed key and expires items on expires_at', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      ...tasksTableKeys,
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      PointInTimeRecoverySpecification: Match.absent(),
    });
  });

  it('lists tasks through by_owner: owner scope, then list key, with the filter attributes projected', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      ...tasksTableKeys,
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'owner_scope', AttributeType: 'S' },
        { AttributeName: 'list_key', AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by_owner',
          KeySchema: [
            { AttributeName: 'owner_scope', KeyType: 'HASH' },
            { AttributeName: 'list_key', KeyType: 'RANGE' },
          ],
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: Match.arrayEquals(['context_id', 'state', 'updated_at', 'expires_at']),
          },
        },
      ],
    });
  });

  it('is deleted with the stack: task state is transient', () => {
    const tables = template.findResources('AWS::DynamoDB::Table', { Properties: tasksTableKeys });
    expect(Object.values(tables).map((t) => t.DeletionPolicy)).toEqual(['Delete']);
  });

  it('leaves the jobs table as it was: retained, with point-in-time recovery', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'job_id', KeyType: 'HASH' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
      DeletionPolicy: 'Retain',
    });
  });
});

describe('index names', () => {
  it('are the ones the stores query (grants name them too)', () => {
    expect(JOBS_BY_CLIENT_INDEX).toBe(jobsIndexOfStore);
    expect(TASKS_BY_OWNER_INDEX).toBe(tasksIndexOfStore);
  });
});
