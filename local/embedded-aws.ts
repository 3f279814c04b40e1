/**
 * DynamoDB and S3 on this machine, spoken to through their real wire protocols: dynalite (in memory) and
 * s3rver (files in a temporary folder). Tables and buckets are created from the synthesized template.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
// @ts-expect-error dynalite ships no type declarations
import dynalite from 'dynalite';
// @ts-expect-error s3rver ships no type declarations
import S3rver from 's3rver';
import { localName, resourcesOfType, type CfnTemplate } from './template';

export interface EmbeddedAws {
  dynamodbEndpoint: string;
  s3Endpoint: string;
  tables: string[];
  buckets: string[];
  stop(): Promise<void>;
}

function tableInput(logicalId: string, properties: any): CreateTableCommandInput {
  return {
    TableName: localName(logicalId),
    KeySchema: properties.KeySchema,
    AttributeDefinitions: properties.AttributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes?.map((index: any) => ({
      IndexName: index.IndexName,
      KeySchema: index.KeySchema,
      Projection: index.Projection,
    })),
  };
}

export interface EmbeddedAwsOptions {
  /**
   * Keep DynamoDB's items on disk (LevelDB in a temporary folder) instead of in memory: for batches whose tables
   * (search journal, progress, rate limits) would otherwise weigh on the process's memory. S3 is always on disk.
   */
  dynamodbOnDisk?: boolean;
}

export async function startEmbeddedAws(template: CfnTemplate, options: EmbeddedAwsOptions = {}): Promise<EmbeddedAws> {
  const dynamoDirectory = options.dynamodbOnDisk ? mkdtempSync(path.join(tmpdir(), 'dossier-dynamodb-')) : undefined;
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dynamoDirectory ? { path: dynamoDirectory } : {}) });
  await new Promise<void>((resolve, reject) => dynamo.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve())));
  const dynamodbEndpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;

  const directory = mkdtempSync(path.join(tmpdir(), 'dossier-s3-'));
  const buckets = resourcesOfType(template, 'AWS::S3::Bucket').map(([id]) => localName(id));
  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = (await s3.run()) as AddressInfo;
  const s3Endpoint = `http://127.0.0.1:${port}`;

  const client = new DynamoDBClient({ endpoint: dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const tables: string[] = [];
  for (const [logicalId, resource] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
    const input = tableInput(logicalId, resource.Properties);
    await client.send(new CreateTableCommand(input));
    tables.push(input.TableName!);
  }
  client.destroy();

  return {
    dynamodbEndpoint,
    s3Endpoint,
    tables,
    buckets,
    async stop() {
      await s3.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
      if (dynamoDirectory) rmSync(dynamoDirectory, { recursive: true, force: true });
    },
  };
}
