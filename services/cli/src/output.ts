/** Print a command's result: `value` as indented JSON with `--json`, else `text`; one trailing newline either way. */
export function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}
