/** What every command line of Dossier does with bad input: say what is wrong, prefixed by the command, and exit 2. */
import { existsSync, readFileSync } from 'node:fs';

export function cliInput(command: string) {
  function fail(message: string): never {
    process.stderr.write(`${command}: ${message}\n`);
    process.exit(2);
  }
  function readJson(file: string, what: string): unknown {
    if (!existsSync(file)) fail(`${what} ${file} does not exist`);
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      fail(`${what} ${file} is not valid JSON: ${(error as Error).message}`);
    }
  }
  return { fail, readJson };
}
