import { describe, expect, it } from 'vitest';
import { hasWatermark, watermark, watermarkTitle, withWatermark } from './watermark.js';

describe('the comment watermark', () => {
  it('is one hidden HTML comment that no title can break out of', () => {
    const title = 'a --> <b> "q" \\ -';
    const mark = watermark(title, 'abc123');
    expect(mark).toMatch(/^<!-- cairn-watermark \{.*\} -->$/);
    expect(mark.slice(4, -3)).not.toContain('--');
    expect(mark).not.toMatch(/[<>].*[<>].*[<>]/s); // only the comment's own < and >
    expect(hasWatermark(`report\n\n${mark}\n`, title)).toBe(true);
  });

  it('matches the exact title and any commit', () => {
    const body = withWatermark('# Report\n\n', 'gpu', 'abc');
    expect(body).toBe(`# Report\n\n${watermark('gpu', 'abc')}\n`);
    expect(hasWatermark(body, 'gpu')).toBe(true);
    expect(hasWatermark(body, 'gp')).toBe(false);
    expect(hasWatermark(body, '')).toBe(false);
    expect(hasWatermark(withWatermark('x', 'gpu', 'def'), 'gpu')).toBe(true);
    expect(hasWatermark('<!-- cairn-watermark {not json} -->', 'gpu')).toBe(false);
  });

  it('expands {workflow} and {run}', () => {
    expect(watermarkTitle('{workflow}/{run}', { workflow: 'w', run: '7' })).toBe('w/7');
    expect(watermarkTitle('{run}', {})).toBe('');
  });
});
