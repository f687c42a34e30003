// infra/Dockerfile and .dockerignore, checked structurally (no Docker engine here, and no Dockerfile linter in
// Debian or the npm registry that installs offline): the properties the image must keep.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const dockerfile = readFileSync(join(root, 'infra', 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(root, '.dockerignore'), 'utf8');

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  body: Instruction[];
}

/** Instructions, with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/s.exec(l);
      if (!m) throw new Error(`unparsable Dockerfile line: ${l}`);
      return { op: (m[1] as string).toUpperCase(), args: (m[2] as string).trim() };
    });
}

function stages(all: Instruction[]): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const out: Stage[] = [];
  for (const ins of all) {
    if (ins.op === 'ARG' && out.length === 0) {
      const [k, v] = ins.args.split('=', 2);
      args.set(k as string, v ?? '');
    } else if (ins.op === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`unparsable FROM ${ins.args}`);
      const from = (m[1] as string).replace(/\$\{?(\w+)\}?/g, (_, k: string) => args.get(k) ?? `<unset ${k}>`);
      out.push({ from, name: m[2], body: [] });
    } else {
      const current = out[out.length - 1];
      if (!current) throw new Error(`${ins.op} before the first FROM`);
      current.body.push(ins);
    }
  }
  return { args, stages: out };
}

/** JSON (exec) form of CMD/ENTRYPOINT, or throws: shell form would put /bin/sh between tini and Node. */
function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new Error(`not exec form: ${args}`);
  return parsed;
}

/**
 * Whether .dockerignore keeps `path` out of the build context, as Docker decides it: the last pattern that matches the
 * path or one of its parent folders wins; `!` re-includes; `*` and `?` stay within one path segment, `**` spans any.
 */
function ignored(path: string, patterns: string[]): boolean {
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '%ANY_DIRS%')
        .replace(/\*\*/g, '%ANY%')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/%ANY_DIRS%/g, '(?:.*/)?')
        .replace(/%ANY%/g, '.*')}$`,
    );
  const segments = path.split('/');
  const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const re = toRegex((negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, ''));
    if (candidates.some((c) => re.test(c))) excluded = !negate;
  }
  return excluded;
}

const ignorePatterns = dockerignore
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const { stages: allStages } = stages(instructions(dockerfile));
const final = allStages[allStages.length - 1] as Stage;
const finalOps = (op: string) => final.body.filter((i) => i.op === op);

describe('infra/Dockerfile', () => {
  it('is multi-stage, every stage on Node 24 LTS slim on Debian trixie (libtensorflow needs glibc)', () => {
    expect(allStages.length).toBeGreaterThanOrEqual(3);
    for (const s of allStages) expect(s.from).toMatch(/^node:24(\.\d+)*-trixie-slim(@sha256:[0-9a-f]{64})?$/);
    // Only the final stage is the image: build tools and dev dependencies stay behind.
    expect(final.body.some((i) => i.op === 'RUN' && /\b(g\+\+|make|python3)\b/.test(i.args))).toBe(false);
  });

  it('installs production dependencies only, from the lock file, and runs tfjs-node\'s install script explicitly', () => {
    const runs = allStages.flatMap((s) => s.body.filter((i) => i.op === 'RUN').map((i) => i.args));
    expect(runs.some((r) => /\bnpm install\b/.test(r))).toBe(false);
    const prod = runs.find((r) => /\bnpm ci\b[^&]*--omit=dev/.test(r));
    expect(prod).toBeDefined();
    // tfjs-node is optional: npm would drop it silently if its script failed or were skipped (npm 12 blocks unapproved
    // dependency scripts), so the script is run as tfjs-node's own and a failure fails the build.
    expect(prod).toMatch(/--include=optional/);
    expect(prod).toMatch(/cd node_modules\/@tensorflow\/tfjs-node && npm run install/);
    // tfjs-node 4.22 calls util.isNullOrUndefined, gone since Node 23: the image patches it and checks none is left.
    expect(prod).toMatch(/sed -i .*isNullOrUndefined.*nodejs_kernel_backend\.js/);
    expect(prod).toMatch(/! grep -rn 'isNullOrUndefined' node_modules\/@tensorflow\/tfjs-node\/dist/);
    // The runtime stage takes node_modules from the production-only stage, never from the build stage.
    const copies = finalOps('COPY').map((i) => i.args);
    const buildStage = allStages.find((s) => s.body.some((i) => i.op === 'RUN' && /\btsc -b\b/.test(i.args)));
    expect(buildStage?.name).toBeDefined();
    const fromBuild = copies.filter((c) => c.includes(`--from=${buildStage?.name}`));
    expect(fromBuild.length).toBeGreaterThan(0);
    for (const c of fromBuild) expect(c).not.toMatch(/node_modules/);
    expect(buildStage?.body.some((i) => i.op === 'RUN' && /for d in packages\/\* services\/\*.*cp -R "\$d\/dist"/.test(i.args))).toBe(true);
  });

  it('fails the build unless the native backend loads and computes in the final image, as the service user', () => {
    const userIndex = final.body.findIndex((i) => i.op === 'USER');
    const check = final.body.findIndex((i) => i.op === 'RUN' && /require\('@tensorflow\/tfjs-node'\)/.test(i.args));
    expect(check).toBeGreaterThan(userIndex);
    const run = final.body[check]?.args ?? '';
    expect(run).toMatch(/getBackend\(\)/);
    expect(run).toMatch(/'tensorflow'/);
    expect(run).toMatch(/throw new Error/);
    // The CLI entry runs too, with both service commands, and the service packages it imports load from dist.
    expect(run).toMatch(/sweepq --help/);
    expect(run).toMatch(/node services\/cli\/dist\/main\.js worker --help/);
    expect(run).toMatch(/node services\/cli\/dist\/main\.js coordinator --help/);
    expect(run).toMatch(/import\('@sweepq\/worker'\).*import\('@sweepq\/coordinator'\)/);
  });

  it('runs as a non-root user, numerically, so Kubernetes runAsNonRoot can verify it', () => {
    const users = finalOps('USER');
    expect(users.length).toBeGreaterThan(0);
    const user = (users[users.length - 1] as Instruction).args;
    expect(user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    // Code stays root-owned: the service user cannot rewrite it.
    for (const c of finalOps('COPY')) expect(c.args).not.toMatch(/--chown/);
  });

  it('runs Node under an init process (tini) so SIGTERM reaches it, one image for every role', () => {
    expect(finalOps('RUN').some((i) => /apt-get install[^&]*\btini\b/.test(i.args))).toBe(true);
    const entrypoint = execForm((finalOps('ENTRYPOINT').pop() as Instruction).args);
    // The built CLI is the entry point (what the npm bin runs), so the image starts the services as
    // `npx sweepq worker` / `npx sweepq coordinator` does; Node runs it directly, with no shell or launcher.
    expect(entrypoint).toEqual(['/usr/bin/tini', '--', 'node', 'services/cli/dist/main.js']);
    expect(execForm((finalOps('CMD').pop() as Instruction).args)).toEqual(['worker']);
    expect(finalOps('ENV').map((i) => i.args).join(' ')).toMatch(/NODE_ENV=production/);
    expect(finalOps('COPY').some((i) => /^examples\s/.test(i.args))).toBe(true);
  });

  it('cleans apt lists and skips recommended packages', () => {
    for (const s of allStages) {
      for (const run of s.body.filter((i) => i.op === 'RUN' && /apt-get install/.test(i.args))) {
        expect(run.args).toMatch(/--no-install-recommends/);
        expect(run.args).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
      }
    }
  });
});

describe('.dockerignore', () => {
  it('lets in what the Dockerfile copies', () => {
    const needed = [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.base.json',
      'packages/model/package.json',
      'packages/model/tsconfig.json',
      'packages/model/src/index.ts',
      'packages/model/src/kernels/deep/file.ts',
      'services/worker/src/main.ts',
      'services/cli/bin/sweepq.js',
      'services/cli/tsconfig.json',
      'examples/quick-sweep.yaml',
    ];
    expect(needed.filter((p) => ignored(p, ignorePatterns))).toEqual([]);
    // Every context path a COPY names (sources without --from) is let in.
    const sources = allStages
      .flatMap((s) => s.body)
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) expect(ignored(src === 'packages' || src === 'services' ? `${src}/x/src/a.ts` : src, ignorePatterns), src).toBe(false);
  });

  it('keeps out dependencies, build output, secrets, VCS data and local results', () => {
    const unwanted = [
      'node_modules/yaml/package.json',
      'services/cli/node_modules/commander/package.json',
      'packages/model/dist/index.js',
      'packages/model/dist/.tsbuildinfo',
      'packages/model/test/backend.test.ts',
      'packages/model/src/backend.test.ts',
      '.git/HEAD',
      '.env',
      'packages/storage/src/.env.local',
      'services/worker/src/.env',
      '.sweepq/results/x/leaderboard.json',
      'test/sweep-e2e.test.ts',
      'infra/k8s/base/kustomization.yaml',
      'docker-compose.yml',
    ];
    expect(unwanted.filter((p) => !ignored(p, ignorePatterns))).toEqual([]);
  });

  it('matches the way Docker does (self-check of this test\'s matcher)', () => {
    expect(ignored('a/b/c', ['*'])).toBe(true);
    expect(ignored('a/b/c', ['*', '!a'])).toBe(false);
    expect(ignored('x/node_modules/y', ['**/node_modules'])).toBe(true);
    expect(ignored('node_modules/y', ['**/node_modules'])).toBe(true);
    expect(ignored('ab/c', ['a*/c', '!ab/c'])).toBe(false);
    expect(ignored('a/b/c', ['a/*'])).toBe(true);
    expect(ignored('a/b', ['a/*/c'])).toBe(false);
  });
});
