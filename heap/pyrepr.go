package heap

import (
	"math"
	"strconv"
)

// appendPyFloat appends Python's repr of f: the shortest decimal that reads
// back as f, in fixed notation when its decimal exponent is between -4 and
// 16 and in exponent notation otherwise, always with a '.' or an exponent.
func appendPyFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // [-]d[.ddd]e±dd
	if s[0] == '-' {
		b = append(b, '-')
		s = s[1:]
	}
	e := 0
	for i := range s {
		if s[i] == 'e' {
			exp, _ := strconv.Atoi(string(s[i+1:]))
			e = exp
			s = s[:i]
			break
		}
	}
	var digits [24]byte
	nd := 0
	for _, c := range s {
		if c != '.' {
			digits[nd] = byte(c)
			nd++
		}
	}
	d := digits[:nd]
	decpt := e + 1 // the decimal point sits after decpt digits
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			b = append(b, '0', '.')
			for range -decpt {
				b = append(b, '0')
			}
			return append(b, d...)
		case decpt >= len(d):
			b = append(b, d...)
			for range decpt - len(d) {
				b = append(b, '0')
			}
			return append(b, '.', '0')
		default:
			b = append(b, d[:decpt]...)
			b = append(b, '.')
			return append(b, d[decpt:]...)
		}
	}
	b = append(b, d[0])
	if len(d) > 1 {
		b = append(b, '.')
		b = append(b, d[1:]...)
	}
	b = append(b, 'e')
	x := decpt - 1
	if x < 0 {
		b = append(b, '-')
		x = -x
	} else {
		b = append(b, '+')
	}
	if x < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(x), 10)
}
