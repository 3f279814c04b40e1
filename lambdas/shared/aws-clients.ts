/**
 * AWS SDK clients, created once per container. On AWS they use the defaults; the local runtime points them at
 * embedded servers with the standard AWS_ENDPOINT_URL_* variables, plus the two S3 settings those servers need.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

let s3: S3Client | undefined;
let dynamo: DynamoDBDocumentClient | undefined;
let sfn: SFNClient | undefined;

export function s3Client(): S3Client {
  s3 ??= new S3Client(
    process.env.AWS_ENDPOINT_URL_S3
      ? {
          forcePathStyle: true,
          // Local S3 servers store aws-chunked framing verbatim when the SDK adds default checksums.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {},
  );
  return s3;
}

export function documentClient(): DynamoDBDocumentClient {
  dynamo ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return dynamo;
}

export function sfnClient(): SFNClient {
  // StartSyncExecution goes to sync-<endpoint host>: right for states.<region>.amazonaws.com, an unresolvable
  // name for a local endpoint (sync-127.0.0.1). A configured endpoint serves every action itself.
  const customEndpoint = !!(process.env.AWS_ENDPOINT_URL_SFN ?? process.env.AWS_ENDPOINT_URL);
  sfn ??= new SFNClient(customEndpoint ? { disableHostPrefix: true } : {});
  return sfn;
}

/** For the local runtime and tests: forget cached clients after the endpoints change. */
export function resetAwsClients(): void {
  s3 = undefined;
  dynamo = undefined;
  sfn = undefined;
}
