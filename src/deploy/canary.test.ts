import { describe, expect, test } from 'vitest';
import { CairnError } from '../core/errors.js';
import { formatCanary, parseCanary, setRolloutSteps } from './canary.js';
import { parseEnvironment } from './environment.js';

const kit = `registry.local:5000/acme/churn@sha256:${'a'.repeat(64)}`;
const FILE = 'environments/prod.yaml';

const steps = (text: string) =>
  parseEnvironment(FILE, text, 'prod').models.find((m) => m.name === 'churn')?.rollout;

describe('--canary step lists', () => {
  test('bare weights wait for analysis, weight:duration pauses; a bare number is seconds', () => {
    expect(parseCanary('10,25,50')).toEqual([{ weight: 10 }, { weight: 25 }, { weight: 50 }]);
    expect(parseCanary('10:30s, 50:1m,100%:45')).toEqual([
      { weight: 10, pause: '30s' },
      { weight: 50, pause: '1m' },
      { weight: 100, pause: '45s' },
    ]);
    expect(formatCanary(parseCanary('10:30s,50'))).toBe('10:30s,50');
  });

  test.each([
    ['', 'has an empty step'],
    ['10,,50', 'has an empty step'],
    ['ten', "step 'ten' is not WEIGHT[:PAUSE]"],
    ['10:1.5m', "step '10:1.5m' is not WEIGHT[:PAUSE]"],
    ['0,50', 'weight 0 is not within 1–100'],
    ['10,120', 'weight 120 is not within 1–100'],
    ['50,25', 'weight 25 does not step up from 50'],
    ['50,50', 'weight 50 does not step up from 50'],
  ])('%j is refused: %s', (spec, message) => {
    expect(() => parseCanary(spec)).toThrow(message);
    expect(() => parseCanary(spec)).toThrow(CairnError);
  });
});

describe('writing rollout.steps into a manifest', () => {
  const header = [
    '# prod: what our customers hit',
    'apiVersion: cairn.dev/v1alpha1',
    'kind: Environment',
    'metadata: { name: prod }',
    'spec:',
    '  models:',
  ];

  test('a model without a rollout gets one, with default gates when a step waits for analysis', () => {
    const text = [
      ...header,
      '    churn:',
      `      modelkit: ${kit} # pinned by cairn deploy`,
      '      threads: 2',
      '    # the fraud model is next',
      '    fraud:',
      `      modelkit: "${kit}"`,
      '',
    ].join('\n');
    const out = setRolloutSteps(FILE, text, 'churn', parseCanary('10,50:1m'));
    expect(out).toBe(
      [
        ...header,
        '    churn:',
        `      modelkit: ${kit} # pinned by cairn deploy`,
        '      threads: 2',
        '      rollout:',
        '        steps:',
        '          - setWeight: 10',
        '          - analysis: {}',
        '          - setWeight: 50',
        '          - pause: { duration: 1m }',
        '        analysis: { maxErrorRate: 1 } # added by cairn deploy --canary; tune the gates here',
        '    # the fraud model is next',
        '    fraud:',
        `      modelkit: "${kit}"`,
        '',
      ].join('\n'),
    );
    expect(steps(out)).toMatchObject({
      steps: [
        { setWeight: 10 },
        { analysis: {} },
        { setWeight: 50 },
        { pause: { duration: '1m' } },
      ],
      analysis: { maxErrorRate: 1, minRequests: 20 },
      onFailure: 'abort',
    });
  });

  test('existing steps are replaced in place; gates, comments and the rest stay byte for byte', () => {
    const before = [
      ...header,
      '    churn:',
      `      modelkit: ${kit}`,
      '      rollout:',
      '          # slow and careful',
      '          steps:',
      '            - setWeight: 5',
      '            - pause: { duration: 10m } # overnight',
      '          analysis:',
      '            maxP99Ms: 250 # the SLO',
      '          onFailure: pause',
      '',
    ];
    const out = setRolloutSteps(FILE, before.join('\n'), 'churn', parseCanary('20:30s,60:30s'));
    expect(out).toBe(
      [
        ...before.slice(0, 11),
        '            - setWeight: 20',
        '            - pause: { duration: 30s }',
        '            - setWeight: 60',
        '            - pause: { duration: 30s }',
        ...before.slice(13),
      ].join('\n'),
    );
    expect(steps(out)).toMatchObject({ analysis: { maxP99Ms: 250 }, onFailure: 'pause' });
  });

  test('a flow list stays a flow list, and a rollout without steps gets them', () => {
    const flow = [
      ...header,
      `    churn: { modelkit: ${kit}, rollout: { steps: [{ setWeight: 5 }] } }`,
      '',
    ].join('\n');
    const out = setRolloutSteps(FILE, flow, 'churn', parseCanary('10:5s,90:5s'));
    expect(out).toContain(
      'rollout: { steps: [{ setWeight: 10 }, { pause: { duration: 5s } }, { setWeight: 90 }, { pause: { duration: 5s } }] }',
    );
    expect(steps(out)?.steps).toHaveLength(4);

    const noSteps = [
      ...header,
      '    churn:',
      `      modelkit: ${kit}`,
      '      rollout:',
      '        onFailure: abort # keep',
    ].join('\n');
    const added = setRolloutSteps(FILE, noSteps, 'churn', parseCanary('30:1m'));
    expect(added).toBe(
      `${noSteps}\n        steps:\n          - setWeight: 30\n          - pause: { duration: 1m }\n`,
    );
    expect(steps(added)?.steps).toEqual([{ setWeight: 30 }, { pause: { duration: '1m' } }]);
  });
});
