/** The stores, bound to the configured table and bucket. */
import { documentClient, s3Client } from './aws-clients';
import { config } from './config';
import { DynamoJobStore, type JobStore } from '../store/job-store';
import { ResultStore } from '../store/result-store';

export const jobStore = (): JobStore => new DynamoJobStore(documentClient(), config.jobsTableName);
export const resultStore = (): ResultStore => new ResultStore(s3Client(), config.bucketName);
