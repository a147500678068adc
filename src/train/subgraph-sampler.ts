/**
 * Producer/consumer sampling of PinSage/GraphSAGE training subgraphs (Ying et al. KDD'18 §3.2:
 * CPU workers sample the next mini-batches' computation graphs while the current one trains).
 *
 * The producer needs the next batches' target nodes before the trainer asks for them, so the
 * planner wraps the recipe's positives and negatives: when the trainer asks for batch t it draws
 * batches t+1 … t+depth ahead (their positives, then their negatives, from the trainer's rng, in
 * that order), hands each side's targets (users; positive items then negatives, the trainer's
 * item order) to the producer with a seed of their own, and returns batch t. The encoder core
 * then `take`s the subgraph planned for exactly its targets.
 *
 * Producers: `workers: n ≥ 1` samples in n worker threads (subgraph-sampler.worker.ts) over the
 * neighbour CSR in SharedArrayBuffers; the consumer blocks (Atomics.wait) only if a subgraph is
 * not ready yet. `workers: 0` samples the same requests inline, at `take`. Each request carries
 * its own seed, so both give identical subgraphs and a fit is deterministic given its seed
 * whichever producer runs.
 * Negative samplers whose Q depends on the batch stream see `observe` after their negatives were
 * drawn ahead; the static samplers of the GCN recipes (uniform, popularity, hard band) do not care.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from "node:worker_threads";
import { RecallkitError } from "../errors.ts";
import {
  type NeighborSampler,
  type NeighborSamplerSpec,
  type Subgraph,
  SubgraphScratch,
  type SubgraphSource,
  sampleSubgraph,
} from "../graph/subgraph.ts";
import type { Csr } from "../math/csr.ts";
import { Rng } from "../math/rng.ts";
import type { NegativeSampler, SampleRequest, SamplerStats } from "../negatives/types.ts";
import type { PairBatch, PositiveSource } from "../positives/types.ts";
import type { Dataset } from "../types.ts";
import { startWorker, workerUrl } from "../workers.ts";

/** What the planner needs from the encoder core (PinSageCore.samplingPlan, after prepare). */
export interface SamplingPlan {
  readonly nUsers: number;
  readonly nNodes: number;
  readonly layers: number;
  readonly sampler: NeighborSampler;
}

export interface SubgraphSamplerOptions {
  /** Worker threads sampling ahead; 0 samples inline at each forward. Default 1. */
  readonly workers?: number;
  /** Batches planned ahead of the one training. Default 2. */
  readonly depth?: number;
  /**
   * One subgraph per step for the users' and items' targets together (`takeJoint`; the core runs
   * one pass for both sides), instead of one per side. Default true.
   */
  readonly joint?: boolean;
}

/** Init data of a sampler worker. */
export interface SamplerWorkerInit {
  readonly spec: NeighborSamplerSpec;
  readonly nNodes: number;
  readonly layers: number;
  /** Int32Array(1) on a SharedArrayBuffer: bumped (and notified) after every reply. */
  readonly flag: Int32Array;
  readonly port: MessagePort;
}

/** One request: the subgraph of targets with its own seed. */
export interface SamplerJob {
  readonly id: number;
  readonly targets: Int32Array;
  readonly seed: number;
}

/** One reply: the subgraph (arrays transferred) or the worker's error. */
export type SamplerReply =
  | { readonly id: number; readonly sub: Subgraph }
  | { readonly id: number; readonly error: string };

function sharedCopy<T extends Int32Array | Float32Array>(a: T): T {
  const buf = new SharedArrayBuffer(a.byteLength);
  const out = (a instanceof Int32Array ? new Int32Array(buf) : new Float32Array(buf)) as T;
  out.set(a);
  return out;
}

function sharedCsr(c: Csr): Csr {
  return {
    nRows: c.nRows,
    nCols: c.nCols,
    offsets: sharedCopy(c.offsets),
    indices: sharedCopy(c.indices),
    values: c.values === null ? null : sharedCopy(c.values),
  };
}

/** Where planned requests are sampled: inline at `wait`, or in worker threads. */
export interface Producer {
  submit(job: SamplerJob): void;
  /** The subgraph of request `id` (blocks until a worker has it). */
  wait(id: number): Subgraph;
  close(): void;
}

/** A producer of `workers` threads (0: inline; also inline for a sampler without a spec). */
export function createProducer(plan: SamplingPlan, workers: number): Producer {
  return workers > 0 && plan.sampler.spec !== undefined
    ? new WorkerProducer(plan, workers)
    : new InlineProducer(plan);
}

class InlineProducer implements Producer {
  private readonly jobs = new Map<number, SamplerJob>();
  private readonly scratch: SubgraphScratch;
  constructor(private readonly plan: SamplingPlan) {
    this.scratch = new SubgraphScratch(plan.nNodes, Math.max(plan.sampler.max, 1));
  }
  submit(job: SamplerJob): void {
    this.jobs.set(job.id, job);
  }
  wait(id: number): Subgraph {
    const j = this.jobs.get(id) as SamplerJob;
    this.jobs.delete(id);
    const p = this.plan;
    return sampleSubgraph(j.targets, j.targets.length, p.layers, p.sampler, new Rng(j.seed), this.scratch);
  }
  close(): void {
    this.jobs.clear();
  }
}

class WorkerProducer implements Producer {
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly ready = new Map<number, Subgraph>();

  constructor(plan: SamplingPlan, n: number) {
    const spec = plan.sampler.spec as NeighborSamplerSpec;
    const shared: NeighborSamplerSpec =
      spec.kind === "fixed"
        ? { kind: "fixed", csr: sharedCsr(spec.csr) }
        : { kind: "uniform", csr: sharedCsr(spec.csr), m: spec.m };
    for (let i = 0; i < n; i++) {
      const ch = new MessageChannel();
      const init: SamplerWorkerInit = {
        spec: shared,
        nNodes: plan.nNodes,
        layers: plan.layers,
        flag: this.flag,
        port: ch.port2,
      };
      const w = startWorker(workerUrl("./subgraph-sampler.worker", import.meta.url), init, [
        ch.port2 as unknown as ArrayBuffer,
      ]);
      w.unref(); // never keeps the process alive; `close` ends it
      ch.port1.unref();
      this.workers.push(w);
      this.ports.push(ch.port1);
    }
  }

  submit(job: SamplerJob): void {
    this.workers[job.id % this.workers.length].postMessage(job, [job.targets.buffer as ArrayBuffer]);
  }

  /** Blocks until reply `id` is in: replies are read synchronously off the ports. */
  wait(id: number): Subgraph {
    let t0 = performance.now();
    for (;;) {
      const s = this.ready.get(id);
      if (s !== undefined) {
        this.ready.delete(id);
        return s;
      }
      const seen = Atomics.load(this.flag, 0);
      let got = false;
      for (const p of this.ports) {
        for (let m = receiveMessageOnPort(p); m !== undefined; m = receiveMessageOnPort(p)) {
          const r = m.message as SamplerReply;
          if ("error" in r)
            throw new RecallkitError("RK_ERR_INVALID_ARGUMENT", `subgraph sampler worker: ${r.error}`);
          this.ready.set(r.id, r.sub);
          got = true;
        }
      }
      if (got) {
        t0 = performance.now();
        continue;
      }
      // no reply from any worker for 15 minutes: a worker failed to start (a crash in a job is
      // reported as an error reply); a merely slow machine keeps replying
      if (performance.now() - t0 > 900_000)
        throw new RecallkitError(
          "RK_ERR_INVALID_ARGUMENT",
          `subgraph sampler: no reply from any worker for 900 s while waiting for request ${id} (did a worker fail to start?)`,
        );
      Atomics.wait(this.flag, 0, seen, 1000);
    }
  }

  close(): void {
    for (const p of this.ports) p.close();
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }
}

interface Planned {
  n: number;
  q: Int32Array;
  t: Int32Array;
  negs: Int32Array;
  negLen: number;
  req: SampleRequest;
}

/**
 * Plans training batches ahead and samples their subgraphs (see the file comment). Wrap the
 * recipe's positives and negatives with `positives` / `negatives` and give the planner to the
 * core (`core.useSubgraphSource(planner)`).
 * @example const p = new SubgraphPlanner(() => core.samplingPlan(), { workers: 1 });
 */
export class SubgraphPlanner implements SubgraphSource {
  readonly workers: number;
  readonly depth: number;
  private producer: Producer | null = null;
  private plan: SamplingPlan | null = null;
  private readonly queue: Planned[] = [];
  private current: Planned | null = null;
  readonly joint: boolean;
  private readonly pending = { users: [] as number[], items: [] as number[], joint: [] as number[] };
  private nextId = 0;
  private step = 0;
  private exhausted = false;
  private inner: NegativeSampler | null = null;
  private idle: ReturnType<typeof setTimeout> | null = null;
  /** Subgraphs handed out that were planned (a test/diagnostic counter). */
  served = 0;

  constructor(
    private readonly planOf: () => SamplingPlan | null,
    o: SubgraphSamplerOptions = {},
  ) {
    this.workers = o.workers ?? 1;
    this.depth = o.depth ?? 2;
    this.joint = o.joint ?? true;
    if (!Number.isInteger(this.workers) || this.workers < 0)
      throw new RecallkitError(
        "RK_ERR_INVALID_ARGUMENT",
        `subgraph sampler: workers must be an integer ≥ 0, got ${this.workers}`,
      );
    if (!Number.isInteger(this.depth) || this.depth < 1)
      throw new RecallkitError(
        "RK_ERR_INVALID_ARGUMENT",
        `subgraph sampler: depth must be ≥ 1, got ${this.depth}`,
      );
  }

  /** The recipe's positive source, with batches drawn `depth` ahead. */
  positives(inner: PositiveSource): PositiveSource {
    const self = this;
    return {
      name: inner.name,
      prepare: (d: Dataset) => inner.prepare(d),
      get epochSize() {
        return inner.epochSize;
      },
      startEpoch(rng: Rng) {
        inner.startEpoch(rng);
        self.queue.length = 0;
        self.pending.users.length = 0;
        self.pending.items.length = 0;
        self.pending.joint.length = 0;
        self.exhausted = false;
      },
      nextInto(rng: Rng, out: PairBatch, max: number): number {
        return self.next(inner, rng, out, max);
      },
    };
  }

  /** The recipe's negative sampler, answering with the negatives drawn when the batch was planned. */
  negatives(inner: NegativeSampler): NegativeSampler {
    this.inner = inner;
    const self = this;
    return {
      name: inner.name,
      shared: inner.shared,
      inBatch: inner.inBatch,
      count: inner.count,
      get prob() {
        return inner.prob;
      },
      prepare: (s: SamplerStats) => inner.prepare(s),
      sampleInto(_rng: Rng, req: SampleRequest, out: Int32Array) {
        const c = self.current;
        if (c === null || c.n !== req.rows)
          throw new RecallkitError(
            "RK_ERR_INVALID_ARGUMENT",
            "subgraph sampler: negatives asked for an unplanned batch",
          );
        out.set(c.negs.subarray(0, c.negLen));
      },
      observe: (req: SampleRequest) => inner.observe(req),
      logQInto: (items, n, out, off) => inner.logQInto(items, n, out, off),
    };
  }

  private next(inner: PositiveSource, rng: Rng, out: PairBatch, max: number): number {
    if (this.idle !== null) {
      clearTimeout(this.idle);
      this.idle = null;
    }
    const plan = this.planOf();
    if (
      plan !== null &&
      (this.plan === null || this.plan.sampler !== plan.sampler || this.plan.nNodes !== plan.nNodes)
    )
      this.start(plan);
    while (!this.exhausted && this.queue.length < this.depth + 1) {
      const q = new Int32Array(max);
      const t = new Int32Array(max);
      const n = inner.nextInto(rng, { q, t }, max);
      if (n === 0) {
        this.exhausted = true;
        break;
      }
      this.queue.push(this.draw(rng, q, t, n));
    }
    const b = this.queue.shift();
    this.current = b ?? null;
    if (b === undefined) {
      // epoch over: let idle workers go unless the next epoch starts soon
      if (this.producer !== null && this.workers > 0)
        this.idle = setTimeout(() => this.close(), 5000).unref();
      return 0;
    }
    out.q.set(b.q.subarray(0, b.n));
    out.t.set(b.t.subarray(0, b.n));
    return b.n;
  }

  /** Draws a planned batch's negatives and submits its two subgraph requests. */
  private draw(rng: Rng, q: Int32Array, t: Int32Array, n: number): Planned {
    const neg = this.inner as NegativeSampler;
    const negLen = neg.shared ? neg.count : n * neg.count;
    const negs = new Int32Array(Math.max(negLen, 1));
    const req: SampleRequest = { rows: n, queryIds: q, posIds: t, step: this.step++ };
    neg.sampleInto(rng, req, negs);
    const p: Planned = { n, q, t, negs, negLen, req };
    const plan = this.plan;
    if (plan !== null) {
      const users = new Int32Array(n);
      for (let i = 0; i < n; i++) users[i] = q[i];
      const items = new Int32Array(n + negLen);
      for (let i = 0; i < n; i++) items[i] = plan.nUsers + t[i];
      for (let i = 0; i < negLen; i++) items[n + i] = plan.nUsers + negs[i];
      if (this.joint) {
        const both = new Int32Array(2 * n + negLen);
        both.set(users);
        both.set(items, n);
        this.submit("joint", both, rng);
      } else {
        this.submit("users", users, rng);
        this.submit("items", items, rng);
      }
    }
    return p;
  }

  private submit(key: "users" | "items" | "joint", targets: Int32Array, rng: Rng): void {
    const id = this.nextId++;
    this.pending[key].push(id);
    (this.producer as Producer).submit({ id, targets, seed: rng.nextU32() });
  }

  private start(plan: SamplingPlan): void {
    this.producer?.close();
    this.plan = plan;
    this.producer = createProducer(plan, this.workers);
  }

  take(key: string, targets: Int32Array, n: number): Subgraph | null {
    const ids = key === "users" ? this.pending.users : key === "items" ? this.pending.items : null;
    if (ids === null || ids.length === 0 || this.producer === null) return null;
    const sub = this.producer.wait(ids.shift() as number);
    const K = sub.layers.length - 1;
    if (sub.targetIndex.length !== n) return null;
    for (let i = 0; i < n; i++) if (sub.layers[K][sub.targetIndex[i]] !== targets[i]) return null;
    this.served++;
    return sub;
  }

  takeJoint(users: Int32Array, n: number): Subgraph | null {
    const ids = this.pending.joint;
    if (ids.length === 0 || this.producer === null) return null;
    const sub = this.producer.wait(ids.shift() as number);
    const K = sub.layers.length - 1;
    if (sub.targetIndex.length < n) return null;
    for (let i = 0; i < n; i++) if (sub.layers[K][sub.targetIndex[i]] !== users[i]) return null;
    this.served++;
    return sub;
  }

  /** Ends the worker threads (a later batch restarts them). */
  close(): void {
    this.producer?.close();
    this.producer = null;
    this.plan = null;
    this.pending.users.length = 0;
    this.pending.items.length = 0;
    this.pending.joint.length = 0;
  }
}
