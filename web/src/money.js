// Money is integer fen in the API; people type and read yuan. Parsing is
// exact (string arithmetic, no floating point), display uses thousands
// separators: 123456789 fen -> "1,234,567.89".

// "1,234.5" -> 123450; null if it is not an amount with at most 2 decimals.
export function yuanToFen(text) {
  const s = String(text).trim().replace(/[,，\s]/g, '').replace(/^¥/, '');
  const m = /^(-?)(\d{1,15})(?:\.(\d{0,2}))?$/.exec(s);
  if (!m) return null;
  const fen = Number(m[2]) * 100 + Number((m[3] || '').padEnd(2, '0'));
  return m[1] ? -fen : fen;
}

export function fenToYuan(fen) {
  if (fen === null || fen === undefined || fen === '') return '';
  const n = Number(fen);
  const neg = n < 0;
  const abs = Math.abs(n);
  const yuan = Math.floor(abs / 100);
  const cents = String(abs % 100).padStart(2, '0');
  const grouped = String(yuan).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (neg ? '-' : '') + grouped + '.' + cents;
}
