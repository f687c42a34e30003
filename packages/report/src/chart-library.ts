import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ReportError } from './errors.js';

let cached: { source: string; version: string } | undefined;

/**
 * The minified ECharts build (`echarts/dist/echarts.min.js`, Apache-2.0, licence header kept) and its version, read
 * once per process. Any `</script` in it is written as `<\/script` (the same string inside JS literals), so it cannot
 * close the inline script element it is placed in.
 *
 * @throws ReportError `NO_CHART_LIBRARY` when the `echarts` package is not installed.
 */
export function chartLibrary(): { source: string; version: string } {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let file: string;
  let version = 'unknown';
  try {
    file = require.resolve('echarts/dist/echarts.min.js');
    version = (JSON.parse(readFileSync(require.resolve('echarts/package.json'), 'utf8')) as { version?: string }).version ?? version;
  } catch (err) {
    throw new ReportError('NO_CHART_LIBRARY', 'echarts is not installed: @sweepq/report needs the "echarts" package (npm install)', { cause: err });
  }
  const source = readFileSync(file, 'utf8').replace(/<\/script/gi, '<\\/script');
  cached = { source, version };
  return cached;
}
