/**
 * Secrets Manager on this machine, for what Dossier asks of it locally (webhook signing secrets): CreateSecret,
 * GetSecretValue and PutSecretValue over the service's JSON protocol, in memory, so the real SDK client works.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './template';

export async function startSecretsManagerServer(): Promise<{ url: string; close(): Promise<void> }> {
  const secrets = new Map<string, { arn: string; value: string; version: string }>();
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    const action = String(request.headers['x-amz-target'] ?? '').replace('secretsmanager.', '');
    const answer = (status: number, payload: unknown) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(payload));
    };
    const error = (type: string, message: string) => answer(400, { __type: type, message });
    const find = (id: string) => secrets.get(id) ?? [...secrets.values()].find((s) => s.arn === id);
    switch (action) {
      case 'CreateSecret': {
        if (secrets.has(body.Name)) return error('ResourceExistsException', `the secret ${body.Name} already exists`);
        const secret = { arn: `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${body.Name}-${Math.random().toString(36).slice(2, 8)}`, value: body.SecretString, version: crypto.randomUUID() };
        secrets.set(body.Name, secret);
        return answer(200, { ARN: secret.arn, Name: body.Name, VersionId: secret.version });
      }
      case 'GetSecretValue': {
        const secret = find(body.SecretId);
        if (!secret) return error('ResourceNotFoundException', `Secrets Manager can't find the specified secret.`);
        return answer(200, { ARN: secret.arn, Name: body.SecretId, SecretString: secret.value, VersionId: secret.version, CreatedDate: Date.now() / 1000 });
      }
      case 'PutSecretValue': {
        const secret = find(body.SecretId);
        if (!secret) return error('ResourceNotFoundException', `Secrets Manager can't find the specified secret.`);
        Object.assign(secret, { value: body.SecretString, version: crypto.randomUUID() });
        return answer(200, { ARN: secret.arn, Name: body.SecretId, VersionId: secret.version });
      }
      default:
        return error('UnknownOperationException', `the local Secrets Manager does not implement ${action}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
