/** Deployment settings given as props or CDK context (`-c name=value`). */
import type { Construct } from 'constructs';

/** A limit from props or context: a positive whole number, or the synth fails saying which. */
export function limitSetting(scope: Construct, name: string, value: unknown, fallback: number): number {
  const chosen = value ?? scope.node.tryGetContext(name) ?? fallback;
  const limit = Number(chosen);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`${name} must be a positive whole number, not ${JSON.stringify(chosen)}`);
  return limit;
}
