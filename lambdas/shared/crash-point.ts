/**
 * Named points inside a handler where the local runtime may kill the invocation on purpose, as a crashed Lambda
 * runtime would be killed, to show that a step which dies halfway is retried and repeats safely
 * (local/crash-injection.ts). Deployed, no hook is ever installed and a crash point does nothing.
 */
export type CrashHook = (point: string) => Promise<never> | undefined;

let hook: CrashHook | undefined;

/** For the local runtime only; undefined removes the hook. */
export function installCrashHook(next: CrashHook | undefined): void {
  hook = next;
}

/** Resolves at once unless the local runtime chose to crash this invocation here; then it never does. */
export async function crashPoint(point: string): Promise<void> {
  await hook?.(point);
}
