// Package pyroscope pushes heap profiles to a Grafana Pyroscope server
// through its HTTP ingest API, fitted to the limits the server puts on a
// profile.
package pyroscope

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Name is the series a profile is stored under: a service name and labels.
// On the wire it is the ingest API's name parameter,
// service{key=value,...}.
type Name struct {
	Service string            // the service_name label; letters, digits and _ . - /
	Labels  map[string]string // more labels; see CheckLabel for what keys and values may hold
}

// Lengths the server accepts by default (-validation.max-length-label-name
// and -validation.max-length-label-value).
const (
	maxLabelName  = 1024
	maxLabelValue = 2048
)

// String is n as the ingest API's name parameter, labels sorted by key.
func (n Name) String() string {
	var b strings.Builder
	b.WriteString(n.Service)
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(n.Labels)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(n.Labels[k])
	}
	b.WriteByte('}')
	return b.String()
}

// Check reports the first part of n the server would refuse or store
// differently from what it says.
func (n Name) Check() error {
	if err := CheckService(n.Service); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(n.Labels)) {
		if err := CheckLabel(k, n.Labels[k]); err != nil {
			return err
		}
	}
	return nil
}

// CheckService reports whether s can be a service name: one or more
// letters, digits, and _ . - / characters.
func CheckService(s string) error {
	if s == "" {
		return fmt.Errorf("empty service name")
	}
	for i, r := range s {
		if !isNameRune(r) && r != '-' && r != '/' && r != '.' {
			return fmt.Errorf("service name %q: character %q at byte %d is not allowed (use letters, digits and _ . - /)", s, r, i)
		}
	}
	if len(s) > maxLabelValue {
		return fmt.Errorf("service name %q: longer than %d bytes", s[:32]+"…", maxLabelValue)
	}
	return nil
}

// CheckLabel reports whether the label key=value can be stored as given.
// A key is a letter or _ followed by letters, digits and _, and does not
// start with __ (the server drops such labels) nor is service_name (that
// is the service, given on its own). A value is UTF-8 text, not empty,
// without a comma or a closing brace (they end a value in the name
// parameter) and without spaces at either end (the server trims them).
func CheckLabel(key, value string) error {
	switch {
	case key == "":
		return fmt.Errorf("label %q: empty key", key+"="+value)
	case strings.HasPrefix(key, "__"):
		return fmt.Errorf("label key %q: keys starting with __ are reserved to the server", key)
	case key == "service_name":
		return fmt.Errorf("label key %q: the service name is given on its own (--service)", key)
	case len(key) > maxLabelName:
		return fmt.Errorf("label key %q: longer than %d bytes", key[:32]+"…", maxLabelName)
	}
	for i, r := range key {
		if !isNameRune(r) || (i == 0 && r >= '0' && r <= '9') {
			return fmt.Errorf("label key %q: character %q at byte %d is not allowed (a key is a letter or _, then letters, digits and _)", key, r, i)
		}
	}
	switch {
	case value == "":
		return fmt.Errorf("label %s: empty value", key)
	case !utf8.ValidString(value):
		return fmt.Errorf("label %s: the value is not UTF-8", key)
	case strings.TrimSpace(value) != value:
		return fmt.Errorf("label %s=%q: spaces at either end of a value are dropped by the server", key, value)
	case len(value) > maxLabelValue:
		return fmt.Errorf("label %s: the value is longer than %d bytes", key, maxLabelValue)
	}
	if i := strings.IndexAny(value, ",}"); i >= 0 {
		return fmt.Errorf("label %s=%q: character %q at byte %d is not allowed (it would end the value)", key, value, value[i], i)
	}
	return nil
}

// ParseLabel splits "key=value" and checks it with CheckLabel.
func ParseLabel(s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", fmt.Errorf("label %q: want KEY=VALUE", s)
	}
	if err := CheckLabel(key, value); err != nil {
		return "", "", err
	}
	return key, value, nil
}

func isNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
}
