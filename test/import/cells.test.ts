/**
 * Cell values as spreadsheets write them: Windows line breaks inside a cell reach the subgraphs as
 * "\n" (the subgraphs refuse other control characters in text, lib/input-hygiene.ts).
 */
import { plainCell } from '../../lib/import/cells';

describe('import cells', () => {
  test('a cell with Windows or old Mac line breaks comes out with \\n only', () => {
    expect(plainCell('一楼\r\n二楼\r三楼\n四楼')).toBe('一楼\n二楼\n三楼\n四楼');
    expect(plainCell({ richText: [{ text: '东门\r\n' }, { text: '西门' }] })).toBe('东门\n西门');
    expect(plainCell({ formula: 'A1', result: 'x\r\ny' })).toBe('x\ny');
  });

  test('other values are kept as they are', () => {
    const d = new Date(Date.UTC(2026, 0, 1));
    expect(plainCell(d)).toBe(d);
    expect(plainCell(42)).toBe(42);
    expect(plainCell('\t缩进')).toBe('\t缩进');
    expect(plainCell(null)).toBeNull();
  });
});
