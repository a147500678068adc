/** Prometheus metrics (prom-client), one registry per service so several services never collide. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly http = new Histogram({
    name: "recallkit_http_request_duration_seconds",
    help: "HTTP request latency by route and status code",
    labelNames: ["method", "route", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly channel = new Histogram({
    name: "recallkit_channel_duration_seconds",
    help: "Time one recall channel took for one request",
    labelNames: ["channel"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly channelOutcomes = new Counter({
    name: "recallkit_channel_outcomes_total",
    help: "Channel runs by outcome (ok, empty, error, timeout)",
    labelNames: ["channel", "status"] as const,
    registers: [this.registry],
  });
  readonly recallItems = new Histogram({
    name: "recallkit_recall_items",
    help: "Items in a merged recall response",
    buckets: [0, 10, 50, 100, 200, 500, 1000, 5000],
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: "recallkit_reloads_total",
    help: "Hot reloads by result",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly stateVersion = new Gauge({
    name: "recallkit_state_version",
    help: "Version of the serving state (1 + successful reloads)",
    registers: [this.registry],
  });
  readonly storeDegraded = new Gauge({
    name: "recallkit_store_degraded",
    help: "1 while the online store runs on its fallback (or is down)",
    registers: [this.registry],
  });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: "recallkit_" });
  }
}
