// Kubernetes manifests under infra/k8s: every overlay renders with kustomize (`kubectl kustomize`), every object
// validates against the Kubernetes and KEDA schemas (kubernetes-models), carries no field those schemas do not
// know, and keeps the invariants the services and KEDA depend on.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSeaweedfsWithConditionalWrites, MIN_SEAWEEDFS, REDIS_8_IMAGE, RELEASE_TAG } from './helpers/deploy-images.js';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ScaledJob, ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import type { IScaledJob } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledJob';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';

const root = join(import.meta.dirname, '..');
const k8sDir = join(root, 'infra', 'k8s');

/** The services' default SHUTDOWN_DEADLINE_MS (services/{worker,coordinator}/src/env.ts). */
const DEFAULT_SHUTDOWN_DEADLINE_MS = 25_000;
/** Time the kubelet must leave beyond the shutdown deadline (SIGTERM delivery, process exit). */
const GRACE_MARGIN_MS = 5_000;
const METRICS_PORT = 9464;
/** Secrets the base reads; the dev overlay generates them, production brings its own. */
const SECRET_NAMES = ['sweepq-redis', 'sweepq-s3'];
/** The keys a cloud identity replaces: optional everywhere sweepq runs. */
const AWS_KEY_VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

// ---------------------------------------------------------------------------------------------------------------
// Rendering

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

function kubectl(args: string[]): string {
  const r = spawnSync('kubectl', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(
      'kubectl is not installed: these tests render infra/k8s with `kubectl kustomize` (kubectl >= 1.27, kustomize v5). ' +
        "Debian's kubernetes-client package is too old (kubectl 1.20, kustomize v2); install kubectl from the Kubernetes packages.",
    );
  }
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout;
}

function requireKustomizeV5(): void {
  const out = kubectl(['version', '--client', '-o', 'json']);
  const version = (JSON.parse(out) as { kustomizeVersion?: string }).kustomizeVersion ?? '';
  const major = Number(/^v?(\d+)\./.exec(version)?.[1] ?? 0);
  if (major < 5) {
    throw new Error(`kubectl ships kustomize ${version || '(unknown)'}; infra/k8s needs kustomize v5 (kubectl >= 1.27)`);
  }
}

function render(overlay: string): KubeObject[] {
  return renderDir(join(k8sDir, 'overlays', overlay), overlay);
}

function renderDir(dir: string, label: string): KubeObject[] {
  const text = kubectl(['kustomize', dir]);
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${label}: rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value != null) objects.push(value as KubeObject);
  }
  return objects;
}

// ---------------------------------------------------------------------------------------------------------------
// Schemas

type ModelClass = (new (data: never) => { validate(): void }) & { apiVersion: string; kind: string };
const MODELS: ModelClass[] = [
  Namespace,
  ServiceAccount,
  ConfigMap,
  Secret,
  Service,
  Deployment,
  StatefulSet,
  Job,
  PodDisruptionBudget,
  ScaledObject,
  ScaledJob,
  TriggerAuthentication,
];
const modelFor = new Map(MODELS.map((m) => [`${m.apiVersion}/${m.kind}`, m]));

/** Throws the schema error of an object, or that no schema is known for its kind. */
function validateObject(obj: KubeObject): void {
  const Model = modelFor.get(`${obj.apiVersion}/${obj.kind}`);
  if (!Model) throw new Error(`${obj.apiVersion} ${obj.kind} ${obj.metadata.name}: no schema registered in this test`);
  try {
    new Model(obj as never).validate();
  } catch (err) {
    throw new Error(`${obj.kind} ${obj.metadata.name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Every property name the Kubernetes and KEDA type definitions declare. kubernetes-models' validators accept unknown
 * properties (the API server prunes or rejects them), so a misspelt field such as `terminationGracePeriodSecond`
 * would pass validate(); checking names against this vocabulary catches it.
 */
function schemaVocabulary(): Set<string> {
  const words = new Set<string>();
  const dirs = ['kubernetes-models', '@kubernetes-models/apimachinery', '@kubernetes-models/keda'].map((p) => join(root, 'node_modules', p));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '_schemas' && entry.name !== 'node_modules') walk(path);
      } else if (entry.name.endsWith('.d.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/"([^"\s]+)"\??:/g)) words.add(m[1] as string);
      }
    }
  };
  dirs.forEach(walk);
  return words;
}

/** Maps whose keys are data, not schema fields. */
const FREE_FORM = new Set(['labels', 'annotations', 'matchLabels', 'nodeSelector', 'data', 'stringData', 'binaryData', 'limits', 'requests']);

function unknownFields(obj: KubeObject, vocabulary: Set<string>): string[] {
  const found: string[] = [];
  const visit = (value: unknown, path: string[]): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, [...path, String(i)]));
      return;
    }
    if (value == null || typeof value !== 'object') return;
    const parent = path[path.length - 1] ?? '';
    if (FREE_FORM.has(parent)) return;
    if (obj.kind === 'Service' && path.join('.') === 'spec.selector') return;
    // A KEDA trigger's metadata is the scaler's own settings.
    if (parent === 'metadata' && path[path.length - 3] === 'triggers') return;
    for (const [key, v] of Object.entries(value)) {
      if (!vocabulary.has(key)) found.push([...path, key].join('.'));
      visit(v, [...path, key]);
    }
  };
  visit(obj, []);
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers over rendered objects

function find<T>(objects: KubeObject[], kind: string, name: string): T {
  const obj = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!obj) throw new Error(`no ${kind} named ${name}; rendered: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return obj as unknown as T;
}

type ScaledJobSpec = NonNullable<IScaledJob['spec']>;

function scaledJobSpec(sj: IScaledJob): ScaledJobSpec {
  if (!sj.spec) throw new Error(`ScaledJob ${sj.metadata?.name}: no spec`);
  return sj.spec;
}

/** Pod specs of every workload, with a label for messages. */
function podSpecs(objects: KubeObject[]): { owner: string; spec: IPodSpec; labels: Record<string, string> }[] {
  const out: { owner: string; spec: IPodSpec; labels: Record<string, string> }[] = [];
  for (const o of objects) {
    const owner = `${o.kind}/${o.metadata.name}`;
    if (['Deployment', 'StatefulSet', 'Job'].includes(o.kind)) {
      const t = (o as unknown as { spec: { template: { metadata?: { labels?: Record<string, string> }; spec: IPodSpec } } }).spec.template;
      out.push({ owner, spec: t.spec, labels: t.metadata?.labels ?? {} });
    } else if (o.kind === 'ScaledJob') {
      const t = scaledJobSpec(o as unknown as IScaledJob).jobTargetRef.template;
      if (!t.spec) throw new Error(`${owner}: job template without a pod spec`);
      out.push({ owner, spec: t.spec, labels: t.metadata?.labels ?? {} });
    }
  }
  return out;
}

function containersOf(spec: IPodSpec): IContainer[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

/** Kubernetes resource quantity to a number (cores or bytes). */
function quantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([0-9.]+)(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/.exec(q);
  if (!m) throw new Error(`unparsable quantity "${q}"`);
  const factor: Record<string, number> = { m: 1e-3, k: 1e3, Ki: 1024, M: 1e6, Mi: 1024 ** 2, G: 1e9, Gi: 1024 ** 3, T: 1e12, Ti: 1024 ** 4 };
  return Number(m[1]) * (m[2] ? (factor[m[2]] as number) : 1);
}

/** The value of an env var as the container sees it: literal, or from a ConfigMap in envFrom / configMapKeyRef. */
function envValue(container: IContainer, name: string, objects: KubeObject[]): string | undefined {
  const configMap = (cmName: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === cmName) as IConfigMap | undefined;
  const direct = container.env?.find((e) => e.name === name);
  if (direct) {
    if (direct.value !== undefined) return direct.value;
    const ref = direct.valueFrom?.configMapKeyRef;
    return ref ? configMap(ref.name ?? '')?.data?.[ref.key] : undefined;
  }
  for (const from of container.envFrom ?? []) {
    const cm = from.configMapRef ? configMap(from.configMapRef.name ?? '') : undefined;
    const v = cm?.data?.[name];
    if (v !== undefined) return v;
  }
  return undefined;
}

function shutdownDeadlineMs(container: IContainer, objects: KubeObject[]): number {
  const v = envValue(container, 'SHUTDOWN_DEADLINE_MS', objects);
  return v === undefined ? DEFAULT_SHUTDOWN_DEADLINE_MS : Number(v);
}

function isSweepqImage(image: string | undefined): boolean {
  const name = (image ?? '').replace(/[:@].*$/, '');
  return name === 'sweepq' || name.endsWith('/sweepq');
}

function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return selector != null && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function httpProbe(probe: IProbe | undefined): { path?: string; port?: string | number } | undefined {
  return probe?.httpGet ? { path: probe.httpGet.path, port: probe.httpGet.port } : undefined;
}

/** Resolve a named container port to its number. */
function portNumber(container: IContainer, port: string | number | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

// ---------------------------------------------------------------------------------------------------------------

let vocabulary: Set<string>;
const rendered = new Map<string, KubeObject[]>();
const OVERLAYS = ['dev', 'prod', 'prod-jobs', 'prod-irsa', 'prod-web-identity'] as const;
type Overlay = (typeof OVERLAYS)[number];
const NAMESPACE: Record<Overlay, string> = { dev: 'sweepq-dev', prod: 'sweepq', 'prod-jobs': 'sweepq', 'prod-irsa': 'sweepq', 'prod-web-identity': 'sweepq' };
const objectsOf = (overlay: Overlay): KubeObject[] => {
  const objects = rendered.get(overlay);
  if (!objects) throw new Error(`overlay ${overlay} was not rendered`);
  return objects;
};

beforeAll(() => {
  requireKustomizeV5();
  for (const overlay of OVERLAYS) rendered.set(overlay, render(overlay));
  vocabulary = schemaVocabulary();
});

describe('the checks themselves', () => {
  it('schema validation rejects a wrongly typed field', () => {
    const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two', selector: {}, template: {} } };
    expect(() => validateObject(bad)).toThrow(/replicas/);
    const badSo = { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'x' }, spec: { scaleTargetRef: { name: 'w' }, minReplicaCount: 'zero', triggers: [] } };
    expect(() => validateObject(badSo)).toThrow(/minReplicaCount/);
  });

  it('the vocabulary check finds a misspelt field', () => {
    const typo = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', labels: { anything: 'goes' } },
      spec: { template: { spec: { terminationGracePeriodSecond: 45, containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '1' } } }] } } },
    };
    expect(unknownFields(typo, vocabulary)).toEqual(['spec.template.spec.terminationGracePeriodSecond']);
  });

  it('an object of an unregistered kind fails', () => {
    expect(() => validateObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })).toThrow(/no schema registered/);
  });

  it('the image rules tell releases apart', () => {
    expect(isSeaweedfsWithConditionalWrites('chrislusf/seaweedfs:4.17')).toBe(false);
    expect(isSeaweedfsWithConditionalWrites('chrislusf/seaweedfs:4.18')).toBe(true);
    expect(isSeaweedfsWithConditionalWrites('chrislusf/seaweedfs:5.01')).toBe(true);
    expect(isSeaweedfsWithConditionalWrites('chrislusf/seaweedfs:latest')).toBe(false);
    expect('redis:7.4.2').not.toMatch(REDIS_8_IMAGE);
    expect('redis:8-alpine').not.toMatch(REDIS_8_IMAGE);
    expect('redis:8.10.2').toMatch(REDIS_8_IMAGE);
    expect('redis:8').not.toMatch(RELEASE_TAG);
    expect('chrislusf/seaweedfs:4.44').toMatch(RELEASE_TAG);
  });

  it('every overlay under infra/k8s/overlays is rendered and checked here', () => {
    const dirs = readdirSync(join(k8sDir, 'overlays'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(dirs.sort()).toEqual([...OVERLAYS].sort());
  });
});

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  it('renders objects that all validate against the Kubernetes and KEDA schemas', () => {
    const objects = objectsOf(overlay);
    expect(objects.length).toBeGreaterThan(5);
    for (const obj of objects) validateObject(obj);
  });

  it('uses no field the schemas do not define', () => {
    const unknown = objectsOf(overlay).flatMap((o) => unknownFields(o, vocabulary).map((f) => `${o.kind}/${o.metadata.name}: ${f}`));
    expect(unknown).toEqual([]);
  });

  it('puts everything in its namespace, which enforces the restricted Pod Security Standard', () => {
    const objects = objectsOf(overlay);
    const ns = find<KubeObject>(objects, 'Namespace', NAMESPACE[overlay]);
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NAMESPACE[overlay]);
  });

  it('runs every container as non-root, without privileges, with resource requests and limits', () => {
    const pods = podSpecs(objectsOf(overlay));
    expect(pods.length).toBeGreaterThan(0);
    for (const { owner, spec } of pods) {
      expect(spec.automountServiceAccountToken, `${owner} automountServiceAccountToken`).toBe(false);
      const podSc = spec.securityContext ?? {};
      for (const c of containersOf(spec)) {
        const where = `${owner} container ${c.name}`;
        const sc = c.securityContext ?? {};
        expect(sc.runAsNonRoot ?? podSc.runAsNonRoot, `${where} runAsNonRoot`).toBe(true);
        const uid = sc.runAsUser ?? podSc.runAsUser;
        expect(uid, `${where} runAsUser`).toBeDefined();
        expect(uid, `${where} runAsUser`).not.toBe(0);
        expect(sc.allowPrivilegeEscalation, `${where} allowPrivilegeEscalation`).toBe(false);
        expect(sc.capabilities?.drop, `${where} capabilities.drop`).toContain('ALL');
        expect(sc.privileged ?? false, `${where} privileged`).toBe(false);
        expect((sc.seccompProfile ?? podSc.seccompProfile)?.type, `${where} seccompProfile`).toBe('RuntimeDefault');
        expect(sc.readOnlyRootFilesystem, `${where} readOnlyRootFilesystem`).toBe(true);
        const { requests, limits } = c.resources ?? {};
        for (const r of ['cpu', 'memory']) {
          const req = requests?.[r];
          const lim = limits?.[r];
          expect(req, `${where} requests.${r}`).toBeDefined();
          expect(lim, `${where} limits.${r}`).toBeDefined();
          expect(quantity(req as string), `${where} ${r} request <= limit`).toBeLessThanOrEqual(quantity(lim as string));
        }
      }
    }
  });

  it('uses one pinned sweepq image everywhere, and pinned third-party images', () => {
    const images = podSpecs(objectsOf(overlay)).flatMap(({ spec }) => containersOf(spec).map((c) => c.image ?? ''));
    const sweepq = new Set(images.filter(isSweepqImage));
    expect(sweepq.size).toBe(1);
    const [image] = [...sweepq] as [string];
    expect(image).toMatch(overlay === 'dev' ? /^sweepq:dev$/ : /^[a-z0-9.-]+\/.*sweepq(:[\w.-]+|@sha256:[0-9a-f]{64})$/);
    for (const ref of images) {
      expect(ref, 'tag or digest').toMatch(/:[\w.-]+$|@sha256:[0-9a-f]{64}$/);
      expect(ref, 'not :latest').not.toMatch(/:latest$/);
      // MinIO's community images are gone from Docker Hub.
      expect(ref, 'no MinIO').not.toMatch(/minio/i);
      if (!isSweepqImage(ref)) expect(ref, 'a release tag').toMatch(RELEASE_TAG);
    }
    expect(JSON.stringify(objectsOf(overlay))).not.toMatch(/minio/i);
    // docs/deploy.md says how each pinned tag was checked: it must name the tags in use.
    const deployDoc = readFileSync(join(root, 'docs', 'deploy.md'), 'utf8');
    for (const ref of images.filter((i) => !isSweepqImage(i))) expect(deployDoc, `docs/deploy.md names ${ref}`).toContain(`\`${ref}\``);
  });

  it('makes the S3 keys optional for every sweepq container, so a cloud identity can replace them', () => {
    const objects = objectsOf(overlay);
    const sweepqContainers = podSpecs(objects).flatMap(({ owner, spec }) => spec.containers.filter((c) => isSweepqImage(c.image)).map((c) => ({ owner, c })));
    expect(sweepqContainers.length).toBeGreaterThanOrEqual(2);
    for (const { owner, c } of sweepqContainers) {
      for (const name of AWS_KEY_VARS) {
        const ref = c.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
        expect(ref?.name, `${owner} ${name}`).toBe('sweepq-s3');
        expect(ref?.optional, `${owner} ${name} optional`).toBe(true);
      }
      // Redis has no cloud identity: its URL stays required.
      expect(c.env?.find((e) => e.name === 'REDIS_URL')?.valueFrom?.secretKeyRef?.optional ?? false, `${owner} REDIS_URL`).toBe(false);
    }
  });

  it('gives every sweepq pod a grace period above its shutdown deadline', () => {
    const objects = objectsOf(overlay);
    const sweepqPods = podSpecs(objects).filter(({ spec }) => spec.containers.some((c) => isSweepqImage(c.image)));
    expect(sweepqPods.map((p) => p.owner).sort()).toEqual(
      overlay === 'prod-jobs' ? ['Deployment/sweepq-coordinator', 'ScaledJob/sweepq-trial'] : ['Deployment/sweepq-coordinator', 'Deployment/sweepq-worker'],
    );
    for (const { owner, spec } of sweepqPods) {
      const grace = (spec.terminationGracePeriodSeconds ?? 30) * 1000;
      for (const c of spec.containers) {
        const deadline = shutdownDeadlineMs(c, objects);
        expect(deadline, `${owner} SHUTDOWN_DEADLINE_MS`).toBeGreaterThanOrEqual(1000);
        expect(grace, `${owner}: terminationGracePeriodSeconds vs SHUTDOWN_DEADLINE_MS ${deadline}`).toBeGreaterThan(deadline + GRACE_MARGIN_MS);
      }
      expect(grace, owner).toBeGreaterThan(DEFAULT_SHUTDOWN_DEADLINE_MS);
    }
  });

  it('starts coordinator and workers through the CLI commands, keeping the image entry point (tini, then the CLI)', () => {
    const objects = objectsOf(overlay);
    const started = podSpecs(objects).flatMap(({ owner, spec }) =>
      containersOf(spec)
        .filter((c) => isSweepqImage(c.image))
        .map((c) => ({ owner, command: c.command, args: c.args })),
    );
    expect(started.length).toBeGreaterThanOrEqual(2);
    for (const { owner, command, args } of started) {
      // A `command` would replace the image's ENTRYPOINT, and with it tini as PID 1 and the CLI.
      expect(command, `${owner} command`).toBeUndefined();
      expect(args, `${owner} args`).toEqual([owner === 'Deployment/sweepq-coordinator' ? 'coordinator' : 'worker']);
    }
  });

  it('probes coordinator and workers on their metrics port: /healthz for liveness, /readyz for readiness', () => {
    const objects = objectsOf(overlay);
    const config = find<IConfigMap>(objects, 'ConfigMap', 'sweepq-config');
    expect(config.data?.['METRICS_PORT']).toBe(String(METRICS_PORT));
    for (const { owner, spec } of podSpecs(objects)) {
      for (const c of spec.containers.filter((x) => isSweepqImage(x.image))) {
        const where = `${owner} ${c.name}`;
        expect(portNumber(c, 'metrics'), `${where} metrics port`).toBe(METRICS_PORT);
        const live = httpProbe(c.livenessProbe);
        expect(live?.path, `${where} liveness`).toBe('/healthz');
        expect(portNumber(c, live?.port), `${where} liveness port`).toBe(METRICS_PORT);
        // Liveness must tolerate a training loop that answers late: at least the BullMQ lock duration.
        const p = c.livenessProbe ?? {};
        const budgetMs = (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3) * 1000;
        expect(budgetMs, `${where} liveness budget`).toBeGreaterThanOrEqual(Number(envValue(c, 'WORKER_LOCK_MS', objects) ?? 30_000));
        if (owner.startsWith('Deployment/')) {
          const ready = httpProbe(c.readinessProbe);
          expect(ready?.path, `${where} readiness`).toBe('/readyz');
          expect(portNumber(c, ready?.port), `${where} readiness port`).toBe(METRICS_PORT);
          expect(httpProbe(c.startupProbe)?.path, `${where} startup`).toBe('/healthz');
        }
      }
    }
  });

  it('resolves every Secret and ConfigMap reference (Secrets in dev; external and named in prod)', () => {
    const objects = objectsOf(overlay);
    const refs: { kind: 'Secret' | 'ConfigMap'; name: string; key?: string; owner: string }[] = [];
    for (const { owner, spec } of podSpecs(objects)) {
      for (const c of containersOf(spec)) {
        for (const e of c.env ?? []) {
          const s = e.valueFrom?.secretKeyRef;
          if (s) refs.push({ kind: 'Secret', name: s.name ?? '', key: s.key, owner });
          const m = e.valueFrom?.configMapKeyRef;
          if (m) refs.push({ kind: 'ConfigMap', name: m.name ?? '', key: m.key, owner });
        }
        for (const f of c.envFrom ?? []) {
          if (f.secretRef) refs.push({ kind: 'Secret', name: f.secretRef.name ?? '', owner });
          if (f.configMapRef) refs.push({ kind: 'ConfigMap', name: f.configMapRef.name ?? '', owner });
        }
      }
    }
    expect(refs.length).toBeGreaterThan(0);
    const secretNames = [...new Set(refs.filter((r) => r.kind === 'Secret').map((r) => r.name))].sort();
    expect(secretNames).toEqual(SECRET_NAMES);
    for (const ref of refs) {
      if (ref.kind === 'Secret' && overlay !== 'dev') continue;
      const obj = objects.find((o) => o.kind === ref.kind && o.metadata.name === ref.name) as
        | { data?: Record<string, string>; stringData?: Record<string, string> }
        | undefined;
      expect(obj, `${ref.owner} -> ${ref.kind} ${ref.name}`).toBeDefined();
      if (ref.key !== undefined) {
        const keys = Object.keys({ ...obj?.data, ...obj?.stringData });
        expect(keys, `${ref.owner} -> ${ref.kind} ${ref.name} key ${ref.key}`).toContain(ref.key);
      }
    }
    // Production credentials never live in this repository.
    if (overlay !== 'dev') expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('keeps the BullMQ prefix a Redis Cluster hash tag', () => {
    const config = find<IConfigMap>(objectsOf(overlay), 'ConfigMap', 'sweepq-config');
    expect(config.data?.['SWEEPQ_QUEUE_PREFIX']).toMatch(/\{[^{}]+\}/);
  });

  it('scales workers with KEDA on the coordinator\'s backlog endpoint, down to zero', () => {
    const objects = objectsOf(overlay);
    const ns = NAMESPACE[overlay];
    const service = find<IService>(objects, 'Service', 'sweepq-coordinator');
    const coordinator = find<IDeployment>(objects, 'Deployment', 'sweepq-coordinator');
    const podLabels = coordinator.spec?.template.metadata?.labels ?? {};
    expect(labelsMatch(service.spec?.selector, podLabels), 'Service selects the coordinator pods').toBe(true);
    const servicePort = service.spec?.ports?.find((p) => p.port === METRICS_PORT);
    const coordinatorContainer = coordinator.spec?.template.spec?.containers[0] as IContainer;
    expect(portNumber(coordinatorContainer, servicePort?.targetPort), 'Service targets the coordinator metrics port').toBe(METRICS_PORT);

    const scaler: { minReplicaCount?: number; maxReplicaCount?: number; triggers: IScaledObject['spec']['triggers'] } =
      overlay === 'prod-jobs'
        ? scaledJobSpec(find<IScaledJob>(objects, 'ScaledJob', 'sweepq-trial'))
        : find<IScaledObject>(objects, 'ScaledObject', 'sweepq-worker').spec;
    expect(scaler.minReplicaCount).toBe(0);
    expect(scaler.maxReplicaCount).toBeGreaterThan(0);
    expect(scaler.triggers).toHaveLength(1);
    const trigger = scaler.triggers[0];
    expect(trigger?.type).toBe('metrics-api');
    const meta = (trigger?.metadata ?? {}) as Record<string, string>;
    // KEDA's operator resolves the host from its own namespace: it must carry ours.
    expect(meta['url']).toBe(`http://sweepq-coordinator.${ns}.svc.cluster.local:${METRICS_PORT}/backlog`);
    expect(meta['format'] ?? 'json').toBe('json');
    expect(meta['valueLocation']).toBe('backlog');
    expect(meta['aggregateFromKubeServiceEndpoints'] ?? 'false').toBe('false');
    expect(Number(meta['activationTargetValue'] ?? 0)).toBe(0);
    const workerContainer = podSpecs(objects).find((p) => p.owner !== 'Deployment/sweepq-coordinator' && p.spec.containers.some((c) => isSweepqImage(c.image)))?.spec.containers[0] as IContainer;
    // One trial per worker: the target per pod is the worker's concurrency.
    expect(Number(meta['targetValue'])).toBe(Number(envValue(workerContainer, 'WORKER_CONCURRENCY', objects) ?? 1));
  });

  if (overlay !== 'prod-jobs') {
    it('ScaledObject: targets the worker Deployment, owns its replica count, scales down conservatively', () => {
      const objects = objectsOf(overlay);
      const so = find<IScaledObject>(objects, 'ScaledObject', 'sweepq-worker');
      const worker = find<IDeployment>(objects, 'Deployment', so.spec.scaleTargetRef.name);
      expect(so.spec.scaleTargetRef.kind ?? 'Deployment').toBe('Deployment');
      expect(worker.metadata?.name).toBe('sweepq-worker');
      expect(worker.spec?.replicas, 'no replicas on a KEDA-scaled Deployment').toBeUndefined();
      expect(so.spec.cooldownPeriod ?? 300).toBeGreaterThanOrEqual(300);
      const scaleDown = so.spec.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown;
      expect(scaleDown?.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
      expect(scaleDown?.policies?.length).toBeGreaterThan(0);
      for (const p of scaleDown?.policies ?? []) {
        if (p.type === 'Pods') expect(p.value).toBeLessThanOrEqual(2);
        if (p.type === 'Percent') expect(p.value).toBeLessThanOrEqual(25);
        expect(p.periodSeconds).toBeGreaterThanOrEqual(60);
      }
    });

    it('PodDisruptionBudgets cover the workers and the coordinator', () => {
      const objects = objectsOf(overlay);
      for (const name of ['sweepq-worker', 'sweepq-coordinator']) {
        const pdb = find<IPodDisruptionBudget>(objects, 'PodDisruptionBudget', name);
        const deployment = find<IDeployment>(objects, 'Deployment', name);
        expect(labelsMatch(pdb.spec?.selector?.matchLabels, deployment.spec?.template.metadata?.labels ?? {}), `${name} PDB selects its pods`).toBe(true);
        expect(pdb.spec?.maxUnavailable ?? pdb.spec?.minAvailable).toBeDefined();
      }
    });
  } else {
    it('ScaledJob: one-shot workers, one trial per Job, running Jobs kept on rollout, no worker Deployment left', () => {
      const objects = objectsOf(overlay);
      const sj = scaledJobSpec(find<IScaledJob>(objects, 'ScaledJob', 'sweepq-trial'));
      const spec = sj.jobTargetRef.template.spec as IPodSpec;
      const worker = spec.containers[0] as IContainer;
      expect(envValue(worker, 'WORKER_ONE_SHOT', objects)).toBe('true');
      expect(spec.restartPolicy).toBe('Never');
      expect(sj.jobTargetRef.parallelism ?? 1).toBe(1);
      expect(sj.jobTargetRef.completions ?? 1).toBe(1);
      expect(sj.rollout?.strategy).toBe('gradual');
      // The backlog includes running trials, which KEDA's default strategy subtracts as running Jobs.
      expect(sj.scalingStrategy?.strategy ?? 'default').toBe('default');
      const leftovers = objects.filter((o) => o.metadata.name === 'sweepq-worker').map((o) => o.kind);
      expect(leftovers).toEqual([]);
      const pdb = find<IPodDisruptionBudget>(objects, 'PodDisruptionBudget', 'sweepq-coordinator');
      expect(pdb.spec?.selector?.matchLabels?.['app.kubernetes.io/component']).toBe('coordinator');
    });
  }

  if (overlay === 'dev') {
    it('dev: in-cluster Redis 8 with AOF and noeviction, SeaweedFS with the bucket, wired into the config', () => {
      const objects = objectsOf(overlay);
      const redisPod = podSpecs(objects).find((p) => p.owner === 'StatefulSet/redis');
      expect(redisPod?.spec.containers[0]?.image).toMatch(REDIS_8_IMAGE);
      const args = (redisPod?.spec.containers[0]?.args ?? []).join(' ');
      expect(args).toMatch(/--appendonly yes\b/);
      expect(args).toMatch(/--maxmemory-policy noeviction\b/);
      const secret = find<ISecret>(objects, 'Secret', 'sweepq-redis');
      const redisUrl = Buffer.from(secret.data?.['REDIS_URL'] ?? '', 'base64').toString('utf8');
      expect(redisUrl).toMatch(/^redis:\/\/:[^@]+@redis:6379$/);
      find<IService>(objects, 'Service', 'redis');

      const s3Service = find<IService>(objects, 'Service', 'seaweedfs');
      expect(s3Service.spec?.ports?.map((p) => p.port)).toEqual([8333, 8888]);
      const config = find<IConfigMap>(objects, 'ConfigMap', 'sweepq-config');
      expect(config.data?.['S3_ENDPOINT']).toBe('http://seaweedfs:8333');
      expect(config.data?.['S3_FORCE_PATH_STYLE']).toBe('true');
      const s3 = podSpecs(objects).find((p) => p.owner === 'StatefulSet/seaweedfs')?.spec.containers[0] as IContainer;
      expect(isSeaweedfsWithConditionalWrites(s3.image), `${s3.image}: chrislusf/seaweedfs >= ${MIN_SEAWEEDFS.join('.')}`).toBe(true);
      expect(s3.args?.[0]).toBe('mini');
      // The bucket named in the config, created at start; the gateway's identity is the sweepq keys.
      expect(s3.args).toContain('-bucket=$(S3_BUCKET)');
      expect(s3.env?.find((e) => e.name === 'S3_BUCKET')?.valueFrom?.configMapKeyRef).toEqual({ name: 'sweepq-config', key: 'S3_BUCKET' });
      for (const name of AWS_KEY_VARS) expect(s3.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef).toEqual({ name: 'sweepq-s3', key: name });
      expect(httpProbe(s3.readinessProbe)).toEqual({ path: '/healthz', port: 's3' });

      const bucketJob = podSpecs(objects).find((p) => p.owner === 'Job/s3-create-bucket')?.spec.containers[0] as IContainer;
      expect(bucketJob.image).toBe(s3.image);
      const script = bucketJob.args?.join(' ') ?? '';
      expect(script).toMatch(/until curl -fsS -o \/dev\/null http:\/\/seaweedfs:8333\/healthz/);
      expect(script).toMatch(/s3 -X PUT; s3 -f -I/);
      expect(script).toContain('"http://seaweedfs:8333/$S3_BUCKET"');
    });
  } else {
    it('prod: no Redis or S3 server in the cluster, AWS S3 unless configured', () => {
      const objects = objectsOf(overlay);
      expect(objects.filter((o) => o.kind === 'StatefulSet')).toEqual([]);
      const config = find<IConfigMap>(objects, 'ConfigMap', 'sweepq-config');
      expect(config.data?.['S3_ENDPOINT']).toBeUndefined();
      const coordinator = find<IDeployment>(objects, 'Deployment', 'sweepq-coordinator');
      expect(coordinator.spec?.replicas).toBeGreaterThanOrEqual(2);
    });
  }
});

/** The projected token volume of a pod and where its container sees the token file. */
function tokenFile(spec: IPodSpec): { audience?: string; file?: string } {
  const volume = spec.volumes?.find((v) => v.projected?.sources?.some((s) => s.serviceAccountToken));
  const source = volume?.projected?.sources?.find((s) => s.serviceAccountToken)?.serviceAccountToken;
  const mount = spec.containers[0]?.volumeMounts?.find((m) => m.name === volume?.name);
  return { audience: source?.audience, file: mount && source ? `${mount.mountPath}/${source.path}` : undefined };
}

describe('cloud identities instead of S3 keys', () => {
  it('prod-irsa: the sweepq ServiceAccount carries an IAM role for EKS, and no Secret is rendered', () => {
    const objects = objectsOf('prod-irsa');
    const sa = find<IServiceAccount>(objects, 'ServiceAccount', 'sweepq');
    expect(sa.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toMatch(/^arn:aws:iam::\d{12}:role\/.+/);
    expect(sa.automountServiceAccountToken).toBe(false);
    const pods = podSpecs(objects).filter(({ spec }) => spec.containers.some((c) => isSweepqImage(c.image)));
    for (const { owner, spec } of pods) expect(spec.serviceAccountName, owner).toBe('sweepq');
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  /** Checks that every sweepq pod reads a projected STS token where AWS_WEB_IDENTITY_TOKEN_FILE says. */
  function expectWebIdentity(objects: KubeObject[], owners: string[]): void {
    const config = find<IConfigMap>(objects, 'ConfigMap', 'sweepq-config');
    expect(config.data?.['AWS_ROLE_ARN']).toMatch(/^arn:aws:iam::\d{12}:role\/.+/);
    const tokenPath = config.data?.['AWS_WEB_IDENTITY_TOKEN_FILE'];
    expect(tokenPath).toBeDefined();
    const pods = podSpecs(objects).filter(({ spec }) => spec.containers.some((c) => isSweepqImage(c.image)));
    expect(pods.map((p) => p.owner).sort()).toEqual(owners);
    for (const { owner, spec } of pods) {
      expect(tokenFile(spec), owner).toEqual({ audience: 'sts.amazonaws.com', file: tokenPath });
      expect(dirname(tokenPath ?? '')).not.toBe('/var/run/secrets/kubernetes.io/serviceaccount');
      expect(basename(tokenPath ?? '')).toBe('token');
      // The projected token is its own volume: no Kubernetes API token is mounted.
      expect(spec.automountServiceAccountToken, owner).toBe(false);
      for (const c of spec.containers) expect(envValue(c, 'AWS_ROLE_ARN', objects), owner).toBe(config.data?.['AWS_ROLE_ARN']);
    }
  }

  it('prod-web-identity: coordinator and worker pods get a projected token for AWS STS, pointed to by the config', () => {
    expectWebIdentity(objectsOf('prod-web-identity'), ['Deployment/sweepq-coordinator', 'Deployment/sweepq-worker']);
  });

  it('components/web-identity after components/scaledjob gives the per-trial Jobs the token too', () => {
    // A throwaway overlay outside the repository; kustomize takes relative paths only.
    const dir = mkdtempSync(join(tmpdir(), 'sweepq-kustomize-'));
    try {
      const rel = (p: string) => relative(dir, join(k8sDir, p));
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'resources:',
          `  - ${rel('overlays/prod-jobs')}`,
          'components:',
          `  - ${rel('components/web-identity')}`,
          '',
        ].join('\n'),
      );
      const objects = renderDir(dir, 'prod-jobs + web-identity');
      for (const obj of objects) validateObject(obj);
      expectWebIdentity(objects, ['Deployment/sweepq-coordinator', 'ScaledJob/sweepq-trial']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
