import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests that load onnxruntime-node themselves keep its telemetry off, as `cairn serve` does.
    env: { ORT_DISABLE_TELEMETRY: '1' },
  },
});
