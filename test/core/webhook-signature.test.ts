/** Webhook signatures as a receiver checks them. */
import { describe, expect, it } from 'vitest';
import { signatureHeader, signatureProblem } from '../../lambdas/core/webhook-signature';

const secret = 'whsec_test';
const body = '{"event":"job.ended","job":{"job_id":"j1"}}';
const now = new Date('2026-11-28T12:00:00Z');

describe('webhook signatures', () => {
  it('verify with the same secret and body', () => {
    expect(signatureProblem(secret, body, signatureHeader(secret, body, now), now)).toBeUndefined();
  });

  it('refuse another secret, a changed body, a missing or malformed header, and an old delivery', () => {
    const header = signatureHeader(secret, body, now);
    expect(signatureProblem('whsec_other', body, header, now)).toBe('the signature does not match');
    expect(signatureProblem(secret, body.replace('j1', 'j2'), header, now)).toBe('the signature does not match');
    expect(signatureProblem(secret, body, undefined, now)).toMatch(/no dossier-signature header/);
    expect(signatureProblem(secret, body, 'v1=abc', now)).toMatch(/t=<unix seconds>,v1=<hex>/);
    expect(signatureProblem(secret, body, header, new Date(now.getTime() + 301_000))).toMatch(/too old/);
  });
});
