/** Reads a user's list of companies: one name per line, or a CSV with a company column. */

const NAME_COLUMNS = ['company_name', 'company', 'name'];

/** Splits one CSV line, honouring double-quoted cells. */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

export function readCompanies(text: string, fileName: string): string[] {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (!fileName.toLowerCase().endsWith('.csv')) return lines;
  const [header, ...rows] = lines;
  if (!header) return [];
  const columns = splitCsvLine(header).map((c) => c.toLowerCase());
  const column = columns.findIndex((c) => NAME_COLUMNS.includes(c));
  if (column === -1) {
    throw new Error(`${fileName}: no company column; name one of ${NAME_COLUMNS.join(', ')} in the header row`);
  }
  return rows.map((row) => splitCsvLine(row)[column] ?? '').filter(Boolean);
}
