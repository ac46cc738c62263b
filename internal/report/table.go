package report

import (
	"io"
	"strings"
	"unicode/utf8"
)

// A Column is one column of a Table.
type Column struct {
	Title string // header cell; a table none of whose columns has a title has no header
	Right bool   // align right; left otherwise
	Min   int    // least width, in characters
	Gap   int    // spaces before the column: 0 means two (none before the first), NoGap none
}

// NoGap is the Column.Gap of a column written right after the one before.
const NoGap = -1

// Left is a left-aligned column.
func Left(title string) Column { return Column{Title: title} }

// Right is a right-aligned column.
func Right(title string) Column { return Column{Title: title, Right: true} }

// A Table is text in columns. Every cell is escaped (see Escape) when the
// table is written, so a cell can never put a control character on the
// terminal or break its line; widths are counted in characters, and no
// line ends in spaces.
type Table struct {
	Columns []Column
	Indent  string // written before every line
	rows    [][]string
	rules   []byte // for each row, the rule character, or 0 for a row of cells
}

// NewTable returns a table with the columns given.
func NewTable(cols ...Column) *Table { return &Table{Columns: cols} }

// Row adds a row of cells, one per column; missing cells are empty.
func (t *Table) Row(cells ...string) {
	row := make([]string, len(t.Columns))
	for i := range min(len(cells), len(row)) {
		row[i] = Escape(cells[i])
	}
	t.rows = append(t.rows, row)
	t.rules = append(t.rules, 0)
}

// Rule adds a line of c as wide as the table.
func (t *Table) Rule(c byte) {
	t.rows = append(t.rows, nil)
	t.rules = append(t.rules, c)
}

// Len is the number of rows added, rules included.
func (t *Table) Len() int { return len(t.rows) }

// Write writes the table, header first.
func (t *Table) Write(w io.Writer) error {
	header := false
	for _, c := range t.Columns {
		header = header || c.Title != ""
	}
	rows, rules := t.rows, t.rules
	if header {
		titles := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			titles[i] = Escape(c.Title)
		}
		rows = append([][]string{titles}, rows...)
		rules = append([]byte{0}, rules...)
	}
	width := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		width[i] = c.Min
	}
	for _, r := range rows {
		for i, s := range r {
			width[i] = max(width[i], utf8.RuneCountInString(s))
		}
	}
	total := 0
	for i := range t.Columns {
		total += t.gap(i) + width[i]
	}
	var b, line strings.Builder
	for k, r := range rows {
		line.Reset()
		line.WriteString(t.Indent)
		if rules[k] != 0 {
			line.WriteString(strings.Repeat(string(rules[k]), total))
		}
		for i, s := range r {
			line.WriteString(strings.Repeat(" ", t.gap(i)))
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(s))
			if t.Columns[i].Right {
				line.WriteString(pad + s)
			} else {
				line.WriteString(s + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// gap is the number of spaces before column i.
func (t *Table) gap(i int) int {
	switch g := t.Columns[i].Gap; {
	case g == NoGap:
		return 0
	case g > 0:
		return g
	case i == 0:
		return 0
	}
	return 2
}
