import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export type CorpusDocument = { url: string; title: string; content: string };

const DOCUMENT_EXTENSIONS = new Set(['.md', '.txt']);

/**
 * Loads every .md/.txt page under `dir` (recursively) as a search document.
 * Paths are sorted so that ranking ties and source numbering are the same on every run.
 */
export function loadCorpus(dir: string): CorpusDocument[] {
  const root = path.resolve(dir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new Error(`Corpus folder not found: ${root}`);
  }
  if (!stat.isDirectory()) throw new Error(`Corpus path is not a folder: ${root}`);

  const documents: CorpusDocument[] = [];
  for (const file of listDocumentFiles(root)) {
    const doc = parseDocument(file, fs.readFileSync(file, 'utf8'));
    // An empty page can never be a useful search hit, so it is not a document.
    if (doc.content.length > 0) documents.push(doc);
  }
  if (documents.length === 0) {
    throw new Error(`Corpus folder holds no documents (.md or .txt pages with content): ${root}`);
  }
  return documents;
}

function listDocumentFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      // Hidden files and folders (.git, .DS_Store, editor swap files) are never pages.
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && DOCUMENT_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) found.push(full);
    }
  };
  walk(root);
  // Plain code-unit order, not locale order, so results do not depend on the machine's locale.
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function parseDocument(file: string, raw: string): CorpusDocument {
  const text = raw.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const { meta, body } = splitFrontMatter(text);
  const content = body.replace(/^\s*\n/, '').trimEnd();
  const heading = /^#\s+(.+?)\s*#*\s*$/m.exec(content)?.[1];
  const title = meta.title || heading || path.basename(file, path.extname(file));
  const url = meta.url || pathToFileURL(file).href;
  return { url, title, content };
}

function splitFrontMatter(text: string): { meta: Record<string, string>; body: string } {
  const meta: Record<string, string> = {};
  if (!/^---[ \t]*\n/.test(text)) return { meta, body: text };
  const end = /\n(?:---|\.\.\.)[ \t]*(?:\n|$)/.exec(text);
  // An opening '---' without a closing one is a horizontal rule, not front matter.
  if (!end) return { meta, body: text };
  const header = text.slice(text.indexOf('\n') + 1, end.index);
  for (const line of header.split('\n')) {
    const m = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line);
    if (!m || m[1] === undefined || m[2] === undefined) continue;
    meta[m[1].toLowerCase()] = unquote(m[2].trim());
  }
  return { meta, body: text.slice(end.index + end[0].length) };
}

function unquote(value: string): string {
  const m = /^(["'])(.*)\1$/.exec(value);
  return m?.[2] ?? value;
}
