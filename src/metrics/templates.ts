/**
 * DVC's plot templates (`linear`, `simple`, `scatter`, `smooth`, `confusion`,
 * `confusion_normalized`, `bar_horizontal`, `bar_horizontal_sorted`), written here as Vega-Lite
 * specs over records that carry a `rev` field, and custom templates: Vega-Lite JSON from
 * `.dvc/plots/<name>.json` or a path, with DVC's `<DVC_METRIC_*>` placeholders filled in.
 */
import type { PlotRecord } from './plot-data.js';

/** What a template is filled with. */
export interface TemplateInput {
  values: PlotRecord[];
  x: string;
  y: string;
  title: string;
  xLabel: string;
  yLabel: string;
  /** the field that tells series apart (each revision, file and field) */
  color: string;
  colorTitle: string;
}

export type Spec = Record<string, unknown>;

export const TEMPLATE_NAMES = [
  'linear',
  'simple',
  'scatter',
  'smooth',
  'confusion',
  'confusion_normalized',
  'bar_horizontal',
  'bar_horizontal_sorted',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export function isTemplateName(name: string): name is TemplateName {
  return (TEMPLATE_NAMES as readonly string[]).includes(name);
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 400;
const HEIGHT = 300;

function base(i: TemplateInput): Spec {
  return {
    $schema: SCHEMA,
    title: i.title,
    data: { values: i.values },
    width: WIDTH,
    height: HEIGHT,
  };
}

function axis(field: string, title: string, type: string): Spec {
  return { field, type, title };
}

function color(i: TemplateInput): Spec {
  return {
    field: i.color,
    type: 'nominal',
    title: i.colorTitle,
    legend: { orient: 'bottom', direction: 'vertical', labelLimit: 0 },
  };
}

function xy(i: TemplateInput): Spec {
  return {
    x: axis(i.x, i.xLabel, 'quantitative'),
    y: { ...axis(i.y, i.yLabel, 'quantitative'), scale: { zero: false } },
    color: color(i),
  };
}

/** A built-in template filled with `i`. */
export function builtinSpec(name: TemplateName, i: TemplateInput): Spec {
  switch (name) {
    case 'linear':
      return {
        ...base(i),
        mark: { type: 'line', tooltip: true },
        encoding: xy(i),
      };
    case 'simple':
      return { ...base(i), mark: 'line', encoding: xy(i) };
    case 'scatter':
      return { ...base(i), mark: { type: 'point', tooltip: true }, encoding: xy(i) };
    case 'smooth':
      return {
        ...base(i),
        layer: [
          { mark: { type: 'line', opacity: 0.2 }, encoding: xy(i) },
          {
            transform: [{ loess: i.y, on: i.x, groupby: [i.color], bandwidth: 0.3 }],
            mark: 'line',
            encoding: xy(i),
          },
        ],
      };
    case 'confusion':
    case 'confusion_normalized':
      return confusion(i, name === 'confusion_normalized');
    case 'bar_horizontal':
    case 'bar_horizontal_sorted':
      return {
        ...base(i),
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: axis(i.x, i.xLabel, 'quantitative'),
          y: {
            ...axis(i.y, i.yLabel, 'nominal'),
            ...(name === 'bar_horizontal_sorted' ? { sort: '-x' } : {}),
          },
          yOffset: { field: i.color },
          color: color(i),
        },
      };
    default:
      return name satisfies never;
  }
}

/** Counts per (actual, predicted) cell, one panel per series; normalised per actual class. */
function confusion(i: TemplateInput, normalized: boolean): Spec {
  const value = normalized ? 'percent' : 'count';
  return {
    $schema: SCHEMA,
    title: i.title,
    data: { values: i.values },
    transform: [
      { aggregate: [{ op: 'count', as: 'count' }], groupby: [i.x, i.y, i.color] },
      ...(normalized
        ? [
            {
              joinaggregate: [{ op: 'sum', field: 'count', as: 'total' }],
              groupby: [i.x, i.color],
            },
            { calculate: 'datum.count / datum.total', as: 'percent' },
          ]
        : []),
    ],
    facet: { column: { field: i.color, type: 'nominal', title: i.colorTitle } },
    spec: {
      width: 300,
      height: 300,
      encoding: {
        x: axis(i.x, i.xLabel, 'nominal'),
        y: axis(i.y, i.yLabel, 'nominal'),
      },
      layer: [
        {
          mark: 'rect',
          encoding: { color: { field: value, type: 'quantitative', title: value } },
        },
        {
          mark: 'text',
          encoding: {
            text: { field: value, type: 'quantitative', ...(normalized ? { format: '.2f' } : {}) },
            color: {
              condition: { test: `datum.${value} > 0`, value: 'black' },
              value: 'gray',
            },
          },
        },
      ],
    },
  };
}

/**
 * A custom template: a Vega-Lite spec whose strings may be DVC placeholders. A string that is
 * exactly `<DVC_METRIC_DATA>` becomes the records; the field and label placeholders are
 * replaced inside strings; `<DVC_METRIC_COLOR>` becomes a colour encoding.
 */
export function fillCustom(template: unknown, i: TemplateInput): Spec {
  const text: Record<string, string> = {
    '<DVC_METRIC_X>': i.x,
    '<DVC_METRIC_Y>': i.y,
    '<DVC_METRIC_TITLE>': i.title,
    '<DVC_METRIC_X_LABEL>': i.xLabel,
    '<DVC_METRIC_Y_LABEL>': i.yLabel,
  };
  const whole: Record<string, unknown> = {
    '<DVC_METRIC_DATA>': i.values,
    '<DVC_METRIC_PLOT_WIDTH>': WIDTH,
    '<DVC_METRIC_PLOT_HEIGHT>': HEIGHT,
    '<DVC_METRIC_COLOR>': color(i),
    '<DVC_METRIC_GROUP_BY>': [i.color],
    '<DVC_METRIC_GROUP_BY_X>': [i.color, i.x],
    '<DVC_METRIC_GROUP_BY_Y>': [i.color, i.y],
    '<DVC_METRIC_ROW>': {},
    '<DVC_METRIC_COLUMN>': {},
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (Object.hasOwn(whole, v)) return whole[v];
      return v.replace(/<DVC_METRIC_[A-Z_]+>/g, (m) => text[m] ?? m);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(template) as Spec;
}
