/** Where Dossier keeps state: the jobs table (status, counters) and the bucket (manifests, raw results, results). */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface StorageProps {
  /** RETAIN keeps data when the stack is deleted; DESTROY suits throwaway stacks. */
  removalPolicy?: RemovalPolicy;
}

export class Storage extends Construct {
  readonly jobsTable: Table;
  readonly searchCacheTable: Table;
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.jobsTable = new Table(this, 'JobsTable', {
      partitionKey: { name: 'job_id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: 'expires_at',
      removalPolicy,
    });

    // A cache: losing it costs only repeated searches, so no point-in-time recovery and always destroyable.
    this.searchCacheTable = new Table(this, 'SearchCacheTable', {
      partitionKey: { name: 'cache_key', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: 'expires_at',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.bucket = new Bucket(this, 'DataBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy,
      lifecycleRules: [
        // Raw search results are only needed to audit a recent job; the results themselves are kept.
        { id: 'expire-raw-search-results', prefix: 'search-results/', expiration: Duration.days(30) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }
}
