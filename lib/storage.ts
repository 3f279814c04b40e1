/**
 * Where Dossier keeps state: the jobs table (status, counters), the A2A tasks table (every agent's tasks and
 * push-notification configs) and the bucket (manifests, raw results, results), with a second bucket for its access logs.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption, type TableProps } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';

/** Index names, as the stores query them (JOBS_BY_CLIENT_INDEX, TASKS_BY_OWNER_INDEX in lambdas/store/). */
export const JOBS_BY_CLIENT_INDEX = 'by_client';
export const TASKS_BY_OWNER_INDEX = 'by_owner';

export interface StorageProps {
  /** RETAIN keeps data when the stack is deleted; DESTROY suits throwaway stacks. */
  removalPolicy?: RemovalPolicy;
}

export class Storage extends Construct {
  readonly jobsTable: Table;
  readonly searchCacheTable: Table;
  readonly tasksTable: Table;
  readonly quotasTable: Table;
  readonly rateLimitsTable: Table;
  readonly bucket: Bucket;
  /** The data bucket's server access logs. */
  readonly accessLogsBucket: Bucket;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    // Server access logs reach their bucket through its bucket policy, not the log-delivery ACL: the buckets have ACLs
    // disabled (BUCKET_OWNER_ENFORCED). Set here, before any bucket exists, so it holds whatever the app's context says.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.jobsTable = new Table(this, 'JobsTable', {
      partitionKey: { name: 'job_id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: 'expires_at',
      removalPolicy,
    });
    // GET /jobs: one client's jobs, newest first (JOBS_BY_CLIENT_INDEX in lambdas/store/job-store.ts). Keys only, so
    // counting a company never writes to the index; the page's jobs are read from the table. Jobs without
    // submitted_by are not in it.
    this.jobsTable.addGlobalSecondaryIndex({
      indexName: JOBS_BY_CLIENT_INDEX,
      partitionKey: { name: 'submitted_by', type: AttributeType.STRING },
      sortKey: { name: 'created_at', type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY,
    });

    // Tables whose items expire (TTL on expires_at) and that nothing relies on keeping: no point-in-time recovery,
    // always destroyable.
    const transientTable = (id: string, keys: Pick<TableProps, 'partitionKey' | 'sortKey'>) => {
      const table = new Table(this, id, {
        ...keys,
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.AWS_MANAGED,
        timeToLiveAttribute: 'expires_at',
        removalPolicy: RemovalPolicy.DESTROY,
      });
      Validations.of(table).acknowledge({
        id: 'AwsSolutions-DDB3',
        reason: 'Transient by design: every item expires (TTL) and losing them costs repeated searches, a reset counter or an expired A2A task, never results (those are in S3 and the jobs table, which has point-in-time recovery)',
      });
      return table;
    };

    // A cache: losing it costs only repeated searches.
    this.searchCacheTable = transientTable('SearchCacheTable', { partitionKey: { name: 'cache_key', type: AttributeType.STRING } });

    // A2A task state (lambdas/store/a2a-task-store.ts): transient by design (30-day TTL after the last update), and
    // the job's results live in S3.
    this.tasksTable = transientTable('TasksTable', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
    });
    // ListTasks: one agent's, tenant's and owner's tasks, newest status first. Only what the filters read is
    // projected, so counting every match for totalSize stays cheap; the page's tasks are read from the table.
    this.tasksTable.addGlobalSecondaryIndex({
      indexName: TASKS_BY_OWNER_INDEX,
      partitionKey: { name: 'owner_scope', type: AttributeType.STRING },
      sortKey: { name: 'list_key', type: AttributeType.STRING },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: ['context_id', 'state', 'updated_at', 'expires_at'],
    });

    // Per-client counters (lambdas/store/quota-store.ts): `<client>#<minute>` requests, `<client>#<day>` research units.
    this.quotasTable = transientTable('QuotasTable', { partitionKey: { name: 'quota_key', type: AttributeType.STRING } });

    // Who read or wrote which object of the data bucket: S3 server access logs, kept for 90 days.
    this.accessLogsBucket = new Bucket(this, 'AccessLogsBucket', {
      // Server access logging delivers to SSE-S3 buckets only.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
    });

    // The providers' shared rate limits (lambdas/store/rate-limit-store.ts): `<provider key>#<slot length>#<slot>`
    // counters of requests and tokens, one item per second or so, kept an hour.
    this.rateLimitsTable = transientTable('RateLimitsTable', { partitionKey: { name: 'limit_key', type: AttributeType.STRING } });

    this.bucket = new Bucket(this, 'DataBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        // Raw search results are only needed to audit a recent job; the results themselves are kept.
        { id: 'expire-raw-search-results', prefix: 'search-results/', expiration: Duration.days(30) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }
}
