/** What a bench run produces: tables of figures, named metrics the targets read, and notes on the run itself. */

export type CellKind = "ms" | "ratio" | "decimal" | "int" | "rate" | "bytes" | "text";

export interface Column {
  readonly key: string;
  readonly label: string;
  readonly kind: CellKind;
}

export type Cell = string | number | null;

export interface Table {
  readonly id: string;
  readonly title: string;
  readonly columns: readonly Column[];
  readonly rows: Record<string, Cell>[];
  readonly notes: string[];
}

export interface TargetResult {
  readonly id: string;
  readonly target: string;
  /** The measured value, rendered with its unit; null when the component was not measured in this run. */
  readonly measured: string | null;
  readonly met: boolean | null;
}

export interface RunInfo {
  startedAt: string;
  durationMs: number;
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  loadAvgStart: readonly number[];
  loadAvgEnd: readonly number[];
  redisVersion: string;
  redisSource: string;
  packageVersion: string;
  scale: number;
}

export interface SectionOutcome {
  readonly id: string;
  readonly title: string;
  readonly status: "measured" | "skipped" | "failed";
  readonly durationMs: number;
  readonly detail?: string;
}

export interface BenchResults {
  run: RunInfo;
  sections: SectionOutcome[];
  tables: Table[];
  metrics: Record<string, number>;
  targets: TargetResult[];
}

/** Collects tables and metrics while sections run. */
export class Recorder {
  readonly tables: Table[] = [];
  readonly metrics = new Map<string, number>();

  table(id: string, title: string, columns: readonly Column[]): Table {
    const table: Table = { id, title, columns, rows: [], notes: [] };
    this.tables.push(table);
    return table;
  }

  metric(name: string, value: number): void {
    this.metrics.set(name, value);
  }
}
