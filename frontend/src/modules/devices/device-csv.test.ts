import { describe, expect, it } from 'vitest';
import { checkImport, csvRecords, MAX_IMPORT_ROWS } from './device-csv';

describe('csvRecords', () => {
  it('reads quoted fields, doubled quotes, CRLF and blank lines, with the line each starts on', () => {
    const text =
      'name,labels\r\npi-1,"site=a;note=x,y"\r\n\r\npi-2,"say ""hi""=1"\n"pi-3","a=1\nb=2"\npi-4\n';
    expect(csvRecords(text)).toEqual([
      { line: 1, fields: ['name', 'labels'] },
      { line: 2, fields: ['pi-1', 'site=a;note=x,y'] },
      { line: 4, fields: ['pi-2', 'say "hi"=1'] },
      { line: 5, fields: ['pi-3', 'a=1\nb=2'] },
      { line: 7, fields: ['pi-4'] },
    ]);
  });
});

describe('checkImport', () => {
  it('takes name,labels rows with or without a header and without a labels column', () => {
    expect(checkImport('name,labels\npi-1,site=a;model=zero\npi-2\n')).toEqual({
      rows: [
        { line: 2, name: 'pi-1', labels: { site: 'a', model: 'zero' } },
        { line: 3, name: 'pi-2', labels: {} },
      ],
      problems: [],
      skipped: [],
    });
    expect(checkImport(' pi-1 , site = a ').rows).toEqual([
      { line: 1, name: 'pi-1', labels: { site: 'a' } },
    ]);
  });

  it('reports every bad row by its line before anything is created', () => {
    const text = [
      'name,labels',
      'pi-1,site=a',
      'Pi_2,site=b',
      'pi-1,site=c',
      'pi-4,site',
      'fieldstation-admin,',
      'pi-6,a=1,b=2',
      'taken-1,',
      ',site=x',
      'pi-9,bad key=1',
    ].join('\n');
    const { rows, problems, skipped } = checkImport(text, new Set(['taken-1']));
    expect(rows.map((row) => row.name)).toEqual(['pi-1']);
    expect(skipped).toEqual(['taken-1']);
    expect(problems).toEqual([
      { line: 3, problem: expect.stringContaining('"Pi_2" is not a DNS label') },
      { line: 4, problem: '"pi-1" is already on line 2' },
      { line: 5, problem: '"site" is not key=value' },
      { line: 6, problem: `"fieldstation-admin" is one of the platform's own broker logins` },
      { line: 7, problem: '3 columns: expected name,labels (quote labels that hold a ",")' },
      { line: 9, problem: 'A name is required' },
      { line: 10, problem: expect.stringContaining('label key "bad key"') },
    ]);
  });

  it('refuses an empty list and more rows than one import takes', () => {
    expect(checkImport('name,labels\n\n').problems).toEqual([
      { line: 1, problem: 'no devices: one "name,labels" per line' },
    ]);
    const many = Array.from({ length: MAX_IMPORT_ROWS + 1 }, (_, index) => `d-${index}`).join('\n');
    expect(checkImport(many)).toEqual({
      rows: [],
      skipped: [],
      problems: [
        { line: MAX_IMPORT_ROWS + 1, problem: '10001 devices: at most 10,000 per import' },
      ],
    });
  });
});
