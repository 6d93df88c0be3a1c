import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { typePropertyNames } from './in-memory-program.js';
import { repositoryRoot } from './markdown-files.js';

/** The mock README names every field of FaultConfig and FaultRule, in prose or in its example. */
describe('the mock README on fault injection', () => {
  it('names every field of FaultConfig and FaultRule', () => {
    const readme = readFileSync(path.join(repositoryRoot, 'packages/mock/README.md'), 'utf8');
    const [config, rule] = typePropertyNames([
      { module: '@kinesis-kit/mock', type: 'FaultConfig' },
      { module: '@kinesis-kit/mock', type: 'FaultRule' },
    ]);
    expect(rule!.length).toBeGreaterThan(10);
    // Named in prose (`field`) or used in the example (`field: value`).
    const unnamed = [...config!, ...rule!].filter((field) => !readme.includes(`\`${field}\``) && !new RegExp(`\\b${field}: `).test(readme));
    expect(unnamed).toEqual([]);
  });
});
