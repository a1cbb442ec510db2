/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for the tests: every
 * line is a `# HELP`, a `# TYPE` or a sample; every sample belongs to a family declared by `# TYPE`
 * (histograms through `_bucket`, `_sum`, `_count`), names and label names are valid, label values
 * are quoted with only the three escapes allowed, values are floats, no series appears twice, and
 * a histogram's buckets are cumulative and end with `le="+Inf"` equal to `_count`. Throws on the
 * first violation with its line.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** Sum of the values of `name` whose labels include `labels` (0 when none). */
  sum(name: string, labels?: Record<string, string>): number;
  /** Every value of label `label` across the samples of `name`. */
  labelValues(name: string, label: string): Set<string>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Go's strconv.ParseFloat, as Prometheus reads values: special values in any letter case. */
function parseValue(v: string, line: string): number {
  if (/^\+?inf$/i.test(v)) return Infinity;
  if (/^-inf$/i.test(v)) return -Infinity;
  if (/^nan$/i.test(v)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new Error(`not a float value: ${line}`);
  return Number(v);
}

function parseLabels(src: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < src.length) {
    const eq = src.indexOf('=', i);
    if (eq < 0) throw new Error(`label without value: ${line}`);
    const name = src.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name "${name}": ${line}`);
    if (src[eq + 1] !== '"') throw new Error(`unquoted label value: ${line}`);
    let j = eq + 2;
    let value = '';
    for (; j < src.length && src[j] !== '"'; j++) {
      if (src[j] === '\\') {
        const n = src[++j];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw new Error(`bad escape in label value: ${line}`);
      } else value += src[j];
    }
    if (src[j] !== '"') throw new Error(`unterminated label value: ${line}`);
    if (name in labels) throw new Error(`duplicate label ${name}: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (i < src.length) {
      if (src[i] !== ',') throw new Error(`expected , between labels: ${line}`);
      i++;
    }
  }
  return labels;
}

export function parsePrometheusText(text: string): Exposition {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  const familyOf = (name: string): string | undefined => {
    if (types.has(name)) return name;
    const m = /^(.*)_(bucket|sum|count)$/.exec(name);
    if (m && (types.get(m[1]) === 'histogram' || types.get(m[1]) === 'summary')) return m[1];
    return undefined;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) {
        if (/^# (HELP|TYPE)/.test(line)) throw new Error(`malformed comment: ${line}`);
        continue;
      }
      if (!METRIC_NAME.test(m[2])) throw new Error(`bad metric name: ${line}`);
      if (m[1] === 'TYPE') {
        if (!TYPES.has(m[3])) throw new Error(`unknown type: ${line}`);
        if (types.has(m[2])) throw new Error(`second TYPE for ${m[2]}`);
        types.set(m[2], m[3]);
      } else {
        if (helps.has(m[2])) throw new Error(`second HELP for ${m[2]}`);
        helps.add(m[2]);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`malformed sample: ${line}`);
    const [, name, labelSrc, value] = m;
    if (!familyOf(name)) throw new Error(`sample without a TYPE: ${line}`);
    const labels = labelSrc ? parseLabels(labelSrc, line) : {};
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`series appears twice: ${line}`);
    seen.add(key);
    samples.push({ name, labels, value: parseValue(value, line) });
  }
  // Histograms: cumulative buckets ending in +Inf = _count.
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const groups = new Map<string, Sample[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${family}_bucket without le`);
      const k = JSON.stringify(Object.entries(rest).sort());
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    for (const [k, buckets] of groups) {
      let prev = -Infinity;
      let last = 0;
      for (const b of buckets) {
        const le = parseValue(b.labels.le, `${family} le=${b.labels.le}`);
        if (le <= prev) throw new Error(`${family}: buckets out of order`);
        if (b.value < last) throw new Error(`${family}: buckets not cumulative`);
        prev = le;
        last = b.value;
      }
      if (prev !== Infinity) throw new Error(`${family}: no +Inf bucket`);
      const count = samples.find((s) => s.name === `${family}_count` && JSON.stringify(Object.entries(s.labels).sort()) === k);
      if (!count || count.value !== last) throw new Error(`${family}: +Inf bucket differs from _count`);
    }
  }
  return {
    types,
    samples,
    sum(name, labels = {}) {
      return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
    },
    labelValues(name, label) {
      return new Set(samples.filter((s) => s.name === name && label in s.labels).map((s) => s.labels[label]));
    },
  };
}
