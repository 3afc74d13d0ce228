/**
 * What the docs' TypeScript fragments use without declaring: the names the text around them has set up (a client, a
 * compiled graph, an order node...). scripts/check-doc-snippets.mjs type-checks every ```ts block of README.md and
 * docs/*.md against src/ with these in scope; a block's own imports and declarations take precedence. Library
 * functions a fragment calls without importing them are declared with their real types, so those calls are checked.
 */
type Library = typeof import("langgraph-redis");

/** The order graphs' state. */
interface OrderState {
  orderId: string;
  amount: number;
  status?: string;
}

declare const client: import("ioredis").Redis;
declare const admin: import("ioredis").Redis;
declare const store: import("langgraph-redis").RedisStore;
declare const checkpointer: import("langgraph-redis").RedisSaver;
declare const postgres: import("pg").Pool;
declare const embeddings: import("@langchain/core/embeddings").Embeddings;
declare const controller: AbortController;
declare const thread_id: string;
declare const from: Date;
declare const to: Date;
/** A fencing token a guarded node holds, and the fence built from it. */
declare const token: number;
declare const fence: import("langgraph-redis").Fence;

declare const RedisSaver: Library["RedisSaver"];
declare const RedisStore: Library["RedisStore"];
declare const guarded: Library["guarded"];
declare const withRunLease: Library["withRunLease"];
declare const resumeCrashedRuns: Library["resumeCrashedRuns"];
declare const cancelRun: Library["cancelRun"];
declare const drainOnSignal: Library["drainOnSignal"];
declare const startAuditSink: Library["startAuditSink"];
declare const auditTrail: Library["auditTrail"];
declare const StateGraph: typeof import("@langchain/langgraph").StateGraph;
declare const START: typeof import("@langchain/langgraph").START;
type LangGraphRunnableConfig = import("@langchain/langgraph").LangGraphRunnableConfig;

/** Graphs and their parts, as the surrounding text built them: not what the fragments check. */
// biome-ignore lint/suspicious/noExplicitAny: a graph of any shape
type AnyGraph = any;
declare const graph: AnyGraph;
declare const app: AnyGraph;
declare const second: AnyGraph;
declare const workflow: AnyGraph;
declare const builder: AnyGraph;
declare const State: AnyGraph;
declare const input: AnyGraph;
declare function report(value: unknown): void;
declare function lookup(state: OrderState): Promise<Partial<OrderState>>;
declare function chargeNode(state: OrderState): Promise<Partial<OrderState>>;
declare function paymentNode(state: OrderState, config: LangGraphRunnableConfig): Promise<Partial<OrderState>>;
declare const payments: {
  charge(request: { orderId: string; amount: number; idempotencyKey: string }): Promise<string>;
};

/** Installed by users who trace with OpenTelemetry; not a dependency of this package. */
declare module "@opentelemetry/sdk-node" {
  export class NodeSDK {
    constructor(options?: Record<string, unknown>);
    start(): void;
    shutdown(): Promise<void>;
  }
}
