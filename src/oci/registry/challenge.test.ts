import { describe, expect, it } from 'vitest';
import { mergeScopes } from './auth.js';
import { parseChallenges } from './challenge.js';

describe('parseChallenges', () => {
  it("reads distribution's Bearer challenge with a scope whose value holds commas", () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:org/m:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example/token',
          service: 'registry.example',
          scope: 'repository:org/m:pull,push',
        },
      },
    ]);
  });

  it('splits several challenges, keeps escapes, unquoted values and odd spacing', () => {
    expect(
      parseChallenges(
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"",  Basic REALM = "simple" ,Bearer realm=https://t.example/x',
      ),
    ).toEqual([
      { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'basic', params: { realm: 'simple' } },
      { scheme: 'bearer', params: { realm: 'https://t.example/x' } },
    ]);
  });

  it('survives token68, bare schemes and garbage without throwing', () => {
    expect(parseChallenges('Basic abc==, Negotiate')).toEqual([
      { scheme: 'basic', params: {} },
      { scheme: 'negotiate', params: {} },
    ]);
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('Bearer realm="unterminated')).toEqual([
      { scheme: 'bearer', params: { realm: 'unterminated' } },
    ]);
    expect(parseChallenges('"" , = ,')).toEqual([]);
  });
});

describe('mergeScopes', () => {
  it('unites the actions asked for on one resource, keeping order', () => {
    expect(
      mergeScopes(
        ['repository:org/m:pull,push', 'repository:org/base:pull'],
        ['repository:org/m:pull', 'repository:org/base:pull,push', 'registry:catalog:*'],
      ),
    ).toEqual([
      'repository:org/m:pull,push',
      'repository:org/base:pull,push',
      'registry:catalog:*',
    ]);
  });
});
