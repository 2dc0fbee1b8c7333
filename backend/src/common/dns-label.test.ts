import 'reflect-metadata';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { IsOptional, validate } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { DNS_LABEL, IsDnsLabel } from './dns-label';

class Named {
  @IsDnsLabel({ maxLength: 8 })
  name!: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsDnsLabel({ each: true })
  logins?: string[];
}

async function problems(input: object): Promise<string[]> {
  const errors = await validate(plainToInstance(Named, input));
  return errors.flatMap((error) => Object.values(error.constraints ?? {}));
}

describe('IsDnsLabel', () => {
  it('accepts DNS labels up to the limit', async () => {
    for (const name of ['a', 'lab', 'green-1', 'a1234567'])
      expect(await problems({ name }), name).toEqual([]);
  });

  it('refuses what is not a lowercase DNS label starting with a letter, naming the rule', async () => {
    for (const name of ['', '1lab', '-lab', 'lab-', 'Lab', 'la.b', 'la_b', 'a12345678', 7]) {
      expect(await problems({ name }), String(name)).toEqual([
        'name must be a DNS label: lowercase letters, digits and "-", starting with a letter, ' +
          'not ending with "-", at most 8 characters',
      ]);
    }
  });

  it('checks every item of an array with `each`, at most 63 characters by default', async () => {
    expect(await problems({ name: 'lab', logins: ['pi-1', 'a'.repeat(63)] })).toEqual([]);
    const [message] = await problems({ name: 'lab', logins: ['pi-1', 'pi.2'] });
    expect(message).toMatch(/^each item of logins must be a DNS label: .* at most 63 characters$/);
    expect(await problems({ name: 'lab', logins: ['a'.repeat(64)] })).toHaveLength(1);
  });

  it('documents pattern and limit in the OpenAPI schema of a single value', () => {
    const schema = Reflect.getMetadata('swagger/apiModelProperties', Named.prototype, 'name');
    expect(schema).toMatchObject({ type: String, pattern: DNS_LABEL.source, maxLength: 8 });
    expect(new RegExp(schema.pattern).test('la.b')).toBe(false);
  });

  it('refuses a limit a DNS label cannot have', () => {
    expect(() => IsDnsLabel({ maxLength: 64 })).toThrow(RangeError);
  });
});
