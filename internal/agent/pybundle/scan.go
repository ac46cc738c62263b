package pybundle

import "fmt"

// A logical is one logical line of Python source (a statement, or the
// header of a compound statement), or a line with nothing but blanks or a
// comment.
type logical struct {
	start, end int    // byte offsets of its physical lines in the source, newline included
	line       int    // line number of its first physical line, from 1
	indent     int    // columns before its first token
	code       string // its tokens, string contents and comments left out, on one line
	blank      bool   // nothing but blanks or a comment
}

// scan splits src into logical lines. String literals keep their prefix and
// quotes but lose their contents, so that code holds no quote, bracket or
// equals sign that is not Python's.
func scan(src []byte) ([]logical, error) {
	var out []logical
	n := len(src)
	line := 1
	i := 0
	for i < n {
		start, startLine := i, line
		j := i
		for j < n && (src[j] == ' ' || src[j] == '\t' || src[j] == '\f') {
			j++
		}
		if j == n || src[j] == '\n' || src[j] == '#' || (src[j] == '\r' && j+1 < n && src[j+1] == '\n') {
			for j < n && src[j] != '\n' {
				j++
			}
			if j < n {
				j++
				line++
			}
			out = append(out, logical{start: start, end: j, line: startLine, blank: true})
			i = j
			continue
		}
		indent := j - i
		depth := 0
		code := make([]byte, 0, 80)
		k := j
	loop:
		for k < n {
			c := src[k]
			switch {
			case c == '#':
				for k < n && src[k] != '\n' {
					k++
				}
			case c == '\\' && k+1 < n && src[k+1] == '\n':
				k += 2
				line++
				code = append(code, ' ')
			case c == '\\' && k+2 < n && src[k+1] == '\r' && src[k+2] == '\n':
				k += 3
				line++
				code = append(code, ' ')
			case c == '\r':
				k++
			case c == '\n':
				k++
				line++
				if depth == 0 {
					break loop
				}
				code = append(code, ' ')
			case c == '"' || c == '\'' || (isPrefix(c) && stringAfterPrefix(src, k) > 0 && (k == 0 || !isIdent(src[k-1]))):
				p := 0
				if c != '"' && c != '\'' {
					p = stringAfterPrefix(src, k)
				}
				code = append(code, src[k:k+p]...)
				k += p
				q := src[k]
				triple := k+2 < n && src[k+1] == q && src[k+2] == q
				lit := 1
				if triple {
					lit = 3
				}
				for m := 0; m < 2*lit; m++ {
					code = append(code, q)
				}
				k += lit
				for {
					if k >= n {
						return nil, &Error{Line: startLine, Msg: "string literal not terminated"}
					}
					d := src[k]
					if d == '\\' && k+1 < n {
						if src[k+1] == '\n' {
							line++
						}
						k += 2
						continue
					}
					if d == '\n' {
						if !triple {
							return nil, &Error{Line: line, Msg: "string literal not terminated"}
						}
						line++
					}
					if d == q && (!triple || (k+2 < n && src[k+1] == q && src[k+2] == q)) {
						k += lit
						break
					}
					k++
				}
			case c == '(' || c == '[' || c == '{':
				depth++
				code = append(code, c)
				k++
			case c == ')' || c == ']' || c == '}':
				depth--
				if depth < 0 {
					return nil, &Error{Line: line, Msg: fmt.Sprintf("unbalanced %q", c)}
				}
				code = append(code, c)
				k++
			default:
				code = append(code, c)
				k++
			}
		}
		if depth != 0 {
			return nil, &Error{Line: startLine, Msg: "bracket not closed"}
		}
		out = append(out, logical{start: start, end: k, line: startLine, indent: indent, code: string(code)})
		i = k
	}
	return out, nil
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func isPrefix(c byte) bool {
	switch c {
	case 'r', 'R', 'b', 'B', 'u', 'U', 'f', 'F':
		return true
	}
	return false
}

// stringAfterPrefix returns the length of the string prefix (r, b, rb, f,
// ...) at src[k] when a quote follows it, or 0.
func stringAfterPrefix(src []byte, k int) int {
	for p := 1; p <= 2 && k+p < len(src); p++ {
		if !isPrefix(src[k+p-1]) {
			return 0
		}
		if q := src[k+p]; q == '"' || q == '\'' {
			return p
		}
	}
	return 0
}
