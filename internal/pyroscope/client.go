package pyroscope

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// Client pushes profiles to one Pyroscope server. The zero value is not
// useful: set URL.
type Client struct {
	URL    string        // the server's base URL, e.g. http://localhost:4040; user:password@ in it is sent as basic auth
	Tenant string        // the X-Scope-OrgID header, for a multi-tenant server; "" for none
	HTTP   *http.Client  // nil means one with a one-minute timeout
	Retry  time.Duration // first wait before pushing again when the server says it is over its rate limit; 0 means 500ms
}

// SpyName is the pyroscope_spy label of the profiles a Client pushes.
const SpyName = "objgraph"

// ServerError is the server's refusal of a push.
type ServerError struct {
	Status  int    // HTTP status
	Message string // the server's message
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("the server refused the profile (%d %s): %s", e.Status, http.StatusText(e.Status), e.Message)
}

// OutsideWindow reports whether the server refused the profile for its
// time, older or newer than its ingestion window
// (-validation.reject-older-than, -validation.reject-newer-than).
func (e *ServerError) OutsideWindow() bool {
	return strings.Contains(e.Message, "outside of ingestion window")
}

// UnreachableError is a push that got no answer from the server.
type UnreachableError struct {
	URL string // the server's URL, without a password
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("no answer from the Pyroscope server at %s: %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Push sends p to the server's ingest API (POST /ingest, format=pprof)
// under name, stamped with time t: Push sets p.TimeNanos, the time the
// server stores the profile at, and the from and until parameters to t.
// When the server says it is over its rate limit (429), Push
// waits and tries again, three times at most, doubling the wait.
func (c *Client) Push(ctx context.Context, name Name, t time.Time, p *profile.Profile) error {
	if err := name.Check(); err != nil {
		return err
	}
	base, err := parseURL(c.URL)
	if err != nil {
		return err
	}
	p.TimeNanos = t.UnixNano()
	var body bytes.Buffer
	if err := p.Write(&body); err != nil {
		return err
	}
	u := base.JoinPath("ingest")
	v := url.Values{}
	v.Set("name", name.String())
	v.Set("from", strconv.FormatInt(t.Unix(), 10))
	v.Set("until", strconv.FormatInt(t.Unix(), 10))
	v.Set("format", "pprof")
	v.Set("spyName", SpyName)
	u.RawQuery = v.Encode()
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	wait := c.Retry
	if wait <= 0 {
		wait = 500 * time.Millisecond
	}
	for try := 0; ; try++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body.Bytes()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		if c.Tenant != "" {
			req.Header.Set("X-Scope-OrgID", c.Tenant)
		}
		resp, err := hc.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // the URL, maybe with a password, is said once, below
			}
			return &UnreachableError{URL: base.Redacted(), Err: err}
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return nil
		}
		if resp.StatusCode == http.StatusTooManyRequests && try < 3 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
			wait *= 2
			continue
		}
		return &ServerError{Status: resp.StatusCode, Message: serverMessage(msg)}
	}
}

// CheckURL reports whether s is the URL of a server, http or https.
func CheckURL(s string) error {
	_, err := parseURL(s)
	return err
}

func parseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return nil, fmt.Errorf("server URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: want http://HOST:PORT or https://HOST:PORT", u.Redacted())
	}
	return u, nil
}

// serverMessage is the message of an error response: the "message" of a
// JSON body, as Pyroscope answers, or else the start of the text.
func serverMessage(b []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil && e.Message != "" {
		return e.Message
	}
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "\uFFFD"))
	if s == "" {
		return "no message"
	}
	if len(s) > 2000 { // a proxy's error page, say
		s = strings.ToValidUTF8(s[:2000], "") + " …"
	}
	return s
}
