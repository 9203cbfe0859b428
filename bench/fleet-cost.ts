// What a deployed stack costs a month, every billed part, at 1, 100 and 1,000 mappings: the Lambda
// figures from the bench run (bench/results.json `monthly`), the rest from counts in the code
// and the template (test/docs/performance.test.ts checks the counts) and list prices. Pure:
// docs/performance.md's cost table is renderCostTable(results.monthly), and a test holds them equal.

/** List prices, USD, region us-east-1 (eu-west-1 is a few percent higher for NLB and endpoints). */
export const PRICES = {
  asOf: '2026-12-07',
  region: 'us-east-1',
  lambdaPerGbSecondArm64: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  nlbPerHour: 0.0225,
  nlcuPerHour: 0.006,
  endpointPerAzHour: 0.01,
  customMetricPerMonth: 0.3,
  alarmPerMonth: 0.1,
  compositeAlarmPerMonth: 0.5,
  dashboardPerMonth: 3,
  putMetricDataPer1000: 0.01,
  logsIngestPerGb: 0.5,
  logsStoragePerGbMonth: 0.03,
} as const;

/** The month AWS prices with. */
export const HOURS_PER_MONTH = 730;
/** Runs a month of each function at rate(1 minute). */
export const RUNS_PER_MONTH = HOURS_PER_MONTH * 60;

/**
 * Custom metric series, counted from the code (lib/sync/run.ts syncMetrics, lib/sync/probe.ts,
 * lib/accept/run.ts acceptMetrics; test/docs/performance.test.ts counts what a run publishes).
 */
export const METRIC_SERIES = { syncRun: 9, probe: 2, syncPerMappingAll: 9, syncPerChange: 5, acceptRun: 6, acceptPerService: 4 } as const;
/** Alarms of the createPrivateLink template (test/docs/performance.test.ts reads the template); none per mapping. */
export const ALARMS = { standard: 14, composite: 1 } as const;
/**
 * createApiEndpoints: elasticloadbalancing, monitoring, rds; ssm too past 16 static mappings
 * (syncMappingsParameter), not when the target groups are found by tag (discoverTargetGroups). ec2 only with acceptInVpc (accept outside the VPC by default): not counted.
 */
export const apiEndpointsFor = (mappings: number, discovery = false) => (mappings > 16 && !discovery ? 4 : 3);
/** Assumptions, said in the table: zones of the NLB and endpoints, mappings per NLB (its 50-listener quota), NLCUs. */
export const ASSUME = {
  zones: 3,
  mappingsPerNlb: 50,
  nlcuPerNlb: 1,
  acceptMsPerRun: 100,
  logBytesPerRun: 1300,
  logBytesPerMapping: 330,
  acceptLogBytesPerRun: 1500,
  // MAPPING_METRICS=changes: a mapping's series are billed only for the hours a change sends them
  // (a failover or an instance replacement: METRIC_SERIES.syncPerChange series in one hour).
  changesPerMappingMonth: 2,
} as const;

export interface MonthlyLambda {
  mappings: number;
  /** The mappings are target groups found by tag (no SSM parameter). */
  discovery?: boolean;
  invocationsPerMonth: number;
  gbSeconds: number;
  memoryMb: number;
}

export interface CostLine {
  part: string;
  arithmetic: string;
  usd: number;
  /** Shown for comparison, not added to the total (the default setting's line is). */
  instead?: true;
}

const usd = (n: number) => Math.round(n * 100) / 100;
const money = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const num = (n: number) => n.toLocaleString('en-US');

export function fleetCost(lambda: MonthlyLambda): { mappings: number; lines: CostLine[]; total: number; withoutEndpoints: number } {
  const m = lambda.mappings;
  const nlbs = Math.ceil(m / ASSUME.mappingsPerNlb);
  const acceptGbSeconds = Math.round((RUNS_PER_MONTH * ASSUME.acceptMsPerRun * lambda.memoryMb) / 1024 / 1000);
  const requests = lambda.invocationsPerMonth + RUNS_PER_MONTH;
  const runSeries = METRIC_SERIES.syncRun + METRIC_SERIES.probe + METRIC_SERIES.acceptRun + METRIC_SERIES.acceptPerService * nlbs;
  const changeHours = m * ASSUME.changesPerMappingMonth * METRIC_SERIES.syncPerChange;
  const allSeries = runSeries + METRIC_SERIES.syncPerMappingAll * m;
  // PutMetricData takes 1,000 values: with every series every run, the sync sends more requests.
  const extraRequests = (Math.ceil(allSeries / 1000) - 1) * RUNS_PER_MONTH;
  const endpoints = apiEndpointsFor(m, lambda.discovery);
  const logGb = (RUNS_PER_MONTH * (ASSUME.logBytesPerRun + ASSUME.logBytesPerMapping * m + ASSUME.acceptLogBytesPerRun)) / 1e9;
  const lines: CostLine[] = [
    {
      part: 'Lambda (sync + accept)',
      arithmetic: `(${num(lambda.gbSeconds)} + ${num(acceptGbSeconds)}) GB-s x $${PRICES.lambdaPerGbSecondArm64} + ${num(requests)} requests x $${PRICES.lambdaPerMillionRequests}/M`,
      usd: usd((lambda.gbSeconds + acceptGbSeconds) * PRICES.lambdaPerGbSecondArm64 + (requests / 1e6) * PRICES.lambdaPerMillionRequests),
    },
    { part: 'NLB hours', arithmetic: `${nlbs} NLB x ${HOURS_PER_MONTH} h x $${PRICES.nlbPerHour}`, usd: usd(nlbs * HOURS_PER_MONTH * PRICES.nlbPerHour) },
    { part: 'NLB capacity (NLCU)', arithmetic: `${nlbs * ASSUME.nlcuPerNlb} NLCU x ${HOURS_PER_MONTH} h x $${PRICES.nlcuPerHour}`, usd: usd(nlbs * ASSUME.nlcuPerNlb * HOURS_PER_MONTH * PRICES.nlcuPerHour) },
    {
      part: 'Interface endpoints (createApiEndpoints)',
      arithmetic: `${endpoints} endpoints x ${ASSUME.zones} AZ x ${HOURS_PER_MONTH} h x $${PRICES.endpointPerAzHour}`,
      usd: usd(endpoints * ASSUME.zones * HOURS_PER_MONTH * PRICES.endpointPerAzHour),
    },
    {
      part: 'Custom metrics (mappingMetrics=changes, the default)',
      arithmetic:
        `(${METRIC_SERIES.syncRun} + ${METRIC_SERIES.probe} probe + ${METRIC_SERIES.acceptRun} + ${METRIC_SERIES.acceptPerService} x ${nlbs}) = ${runSeries} series x $${PRICES.customMetricPerMonth.toFixed(2)}` +
        ` + ${num(m)} x ${ASSUME.changesPerMappingMonth} changes x ${METRIC_SERIES.syncPerChange} series x 1 h / ${HOURS_PER_MONTH} h x $${PRICES.customMetricPerMonth.toFixed(2)}`,
      usd: usd(runSeries * PRICES.customMetricPerMonth + (changeHours / HOURS_PER_MONTH) * PRICES.customMetricPerMonth),
    },
    {
      part: 'Custom metrics with mappingMetrics=all, instead (not in the total)',
      arithmetic:
        `(${runSeries} + ${METRIC_SERIES.syncPerMappingAll} x ${num(m)}) = ${num(allSeries)} series x $${PRICES.customMetricPerMonth.toFixed(2)}` +
        (extraRequests > 0 ? ` + ${num(extraRequests)} more PutMetricData requests x $${PRICES.putMetricDataPer1000}/1,000` : ''),
      usd: usd(allSeries * PRICES.customMetricPerMonth + (extraRequests / 1000) * PRICES.putMetricDataPer1000),
      instead: true,
    },
    {
      part: 'Alarms',
      arithmetic: `${ALARMS.standard} x $${PRICES.alarmPerMonth.toFixed(2)} + ${ALARMS.composite} composite x $${PRICES.compositeAlarmPerMonth.toFixed(2)}`,
      usd: usd(ALARMS.standard * PRICES.alarmPerMonth + ALARMS.composite * PRICES.compositeAlarmPerMonth),
    },
    { part: 'Dashboard', arithmetic: `1 x $${PRICES.dashboardPerMonth} (3 per account are free)`, usd: usd(PRICES.dashboardPerMonth) },
    {
      part: 'PutMetricData requests',
      arithmetic: `2 functions x ${num(RUNS_PER_MONTH)} runs x 1 request x $${PRICES.putMetricDataPer1000}/1,000`,
      usd: usd(((2 * RUNS_PER_MONTH) / 1000) * PRICES.putMetricDataPer1000),
    },
    {
      part: 'CloudWatch Logs',
      arithmetic: `${logGb.toFixed(2)} GB x ($${PRICES.logsIngestPerGb.toFixed(2)} ingest + $${PRICES.logsStoragePerGbMonth.toFixed(2)} stored)`,
      usd: usd(logGb * (PRICES.logsIngestPerGb + PRICES.logsStoragePerGbMonth)),
    },
  ];
  const total = usd(lines.reduce((n, l) => n + (l.instead ? 0 : l.usd), 0));
  const endpointLine = lines.find((l) => l.part.startsWith('Interface endpoints'))?.usd ?? 0;
  return { mappings: m, lines, total, withoutEndpoints: usd(total - endpointLine) };
}

/** The cost table of docs/performance.md, from the bench run's `monthly` rows. */
export function renderCostTable(monthly: MonthlyLambda[]): string {
  const costs = monthly.map(fleetCost);
  const head = `| Part | ${costs.map((c) => `${num(c.mappings)} mapping${c.mappings === 1 ? '' : 's'}`).join(' | ')} |`;
  const rule = `| --- | ${costs.map(() => '---').join(' | ')} |`;
  const rows = (costs[0]?.lines ?? []).map((line, i) => `| ${line.part} | ${costs.map((c) => `${money(c.lines[i]?.usd ?? NaN)}: ${c.lines[i]?.arithmetic ?? ''}`).join(' | ')} |`);
  const total = `| **Total a month** | ${costs.map((c) => `**${money(c.total)}** (${money(c.withoutEndpoints)} without interface endpoints)`).join(' | ')} |`;
  return [head, rule, ...rows, total].join('\n');
}
