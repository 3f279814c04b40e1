/** Which webhook URLs a deployed agent will call, and the refusal a caller sees for the others. */
import { InMemoryPushNotificationStore, ServerCallContext } from '@a2a-js/sdk/server';
import { describe, expect, it } from 'vitest';
import { pushUrlProblem, withPushUrlPolicy } from '../../lambdas/a2a/push-url-policy';

const deployed = { allowPrivate: false };

describe('push notification URLs, deployed', () => {
  it('accepts https URLs of public hosts', () => {
    expect(pushUrlProblem('https://hooks.example.com/a2a', deployed)).toBeUndefined();
    expect(pushUrlProblem('https://203.0.113.10:8443/hook', deployed)).toBeUndefined();
  });

  it('refuses plain http, localhost, and private, loopback, link-local and metadata addresses', () => {
    expect(pushUrlProblem('http://hooks.example.com/a2a', deployed)).toMatch(/https/);
    for (const url of [
      'https://localhost/hook',
      'https://127.0.0.1/hook',
      'https://10.1.2.3/hook',
      'https://172.20.0.1/hook',
      'https://192.168.1.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/hook',
      'https://[fd00::1]/hook',
      'https://[::ffff:10.0.0.1]/hook',
    ]) {
      expect(pushUrlProblem(url, deployed), url).toBeDefined();
    }
    expect(pushUrlProblem('not a url', deployed)).toMatch(/not an absolute URL/);
  });

  it('allows this machine when told to (npm run serve), but still only http(s)', () => {
    expect(pushUrlProblem('http://127.0.0.1:9000/hook', { allowPrivate: true })).toBeUndefined();
    expect(pushUrlProblem('file:///etc/passwd', { allowPrivate: true })).toBeDefined();
  });

  it('a store behind the policy refuses with the invalid-params error and stores nothing', async () => {
    const inner = new InMemoryPushNotificationStore();
    const store = withPushUrlPolicy(inner, deployed);
    const context = new ServerCallContext({ user: { isAuthenticated: true, userName: 'c' } });
    const config = { tenant: '', id: '', taskId: 't1', url: 'https://169.254.169.254/', token: '', authentication: undefined };
    await expect(store.save('t1', context, config)).rejects.toMatchObject({ name: 'RequestMalformedError' });
    expect(await inner.load('t1', context)).toEqual([]);
  });
});
