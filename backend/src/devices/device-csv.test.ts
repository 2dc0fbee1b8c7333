import { describe, expect, it } from 'vitest';
import { ApiError } from '../common/api-error';
import { MAX_IMPORT_ROWS, parseDeviceCsv } from './device-csv';

/** The ApiError a parse throws, for its status, code and details. */
function refusal(text: string): ApiError {
  try {
    parseDeviceCsv(text);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('parsed without refusal');
}

const detailsOf = (error: ApiError) =>
  (error.getResponse() as { error: { details: { field: string; problems: string[] }[] } }).error
    .details;

describe('parseDeviceCsv', () => {
  it('reads name,labels with a header, blank lines, quoted fields and key=value;key=value labels', () => {
    expect(
      parseDeviceCsv(
        'name,labels\r\npi-1,site=a;model=pi-zero\n\npi-2\n"pi-3","note=x,y;eq=a=b"\npi-4,\n',
      ),
    ).toEqual([
      { name: 'pi-1', labels: { site: 'a', model: 'pi-zero' } },
      { name: 'pi-2', labels: {} },
      { name: 'pi-3', labels: { note: 'x,y', eq: 'a=b' } },
      { name: 'pi-4', labels: {} },
    ]);
  });

  it('lists every bad row by its line (names, labels, fields, quotes, duplicates) and applies none', () => {
    const error = refusal(
      'name,labels\nok-1,\nBad_Name,\nok-2,novalue\nok-3,a,b\n"ok-4,\nfieldstation-admin,\nok-1,site=x\n',
    );
    expect(error.getStatus()).toBe(400);
    expect(detailsOf(error).map(({ field }) => field)).toEqual([
      'row 3',
      'row 4',
      'row 5',
      'row 6',
      'row 7',
      'row 8',
    ]);
    expect(detailsOf(error)[5]!.problems[0]).toBe('duplicate name "ok-1" (row 2)');
  });

  it(`takes ${MAX_IMPORT_ROWS} rows and refuses one more with 413 TOO_MANY_ROWS`, () => {
    const rows = (n: number) => Array.from({ length: n }, (_, index) => `d-${index}`).join('\n');
    expect(parseDeviceCsv(`name,labels\n${rows(MAX_IMPORT_ROWS)}`)).toHaveLength(MAX_IMPORT_ROWS);
    const error = refusal(rows(MAX_IMPORT_ROWS + 1));
    expect(error.getStatus()).toBe(413);
    expect(JSON.stringify(error.getResponse())).toContain('TOO_MANY_ROWS');
  });

  it('refuses a file without devices', () => {
    expect(refusal('name,labels\n\n').getStatus()).toBe(400);
  });
});
