package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/core/clock"
)

// How a JWKS is fetched and kept.
const (
	// jwksTimeout bounds one fetch of a JWKS URL.
	jwksTimeout = 10 * time.Second
	// jwksMaxBytes bounds the size of a JWKS.
	jwksMaxBytes = 1 << 20
	// jwksUnknownKID is how often a token with a key id the set lacks may
	// cause a reload at most, so that made-up key ids cannot make us
	// hammer the server.
	jwksUnknownKID = 5 * time.Minute
	// jwksMaxAge is how long a loaded set is used before it is reloaded on
	// the next use, so that a withdrawn key stops working.
	jwksMaxAge = time.Hour
	// jwksRetry is how long a failed load is not retried.
	jwksRetry = 30 * time.Second
	// minRSABits is the smallest RSA key accepted.
	minRSABits = 2048
)

// keySet holds the public keys of a JWKS, read from a URL or a file, and
// reloads them lazily. It is safe for concurrent use; a load holds the lock,
// so requests that need a key wait for it.
type keySet struct {
	url    string // the http(s) URL, or "" when path is set
	path   string // the local file
	client *http.Client
	clock  clock.Clock
	log    *slog.Logger

	mu       sync.Mutex
	keys     map[string]jwk // by kid; nil until the first load succeeds
	loadedAt time.Time      // the last successful load
	triedAt  time.Time      // the last attempt
}

// jwk is one usable key of the set.
type jwk struct {
	alg string // the key's own "alg", or "" when it names none
	key crypto.PublicKey
}

// newKeySet returns the key set at source: an http(s) URL, "file:" and an
// absolute path, or an absolute path. A file is read at once.
func newKeySet(source string, clk clock.Clock, log *slog.Logger) (*keySet, error) {
	s := &keySet{
		client: &http.Client{Timeout: jwksTimeout},
		clock:  clk,
		log:    log,
	}

	path, isFile := strings.CutPrefix(source, "file:")
	switch {
	case isFile && strings.HasPrefix(path, "//") && !strings.HasPrefix(path, "///"):
		return nil, fmt.Errorf("JWKS file %q names a host; want file:/path", source)
	case isFile || filepath.IsAbs(source):
		if !isFile {
			path = source
		}
		if !filepath.IsAbs(path) {
			return nil, fmt.Errorf("JWKS file %q: want an absolute path", source)
		}
		s.path = filepath.Clean(path)
	case strings.HasPrefix(source, "https://"), strings.HasPrefix(source, "http://"):
		s.url = source
	default:
		return nil, fmt.Errorf("JWKS %q: want an http(s) URL, file:/path or an absolute path",
			source)
	}

	if s.path != "" {
		if err := s.load(context.Background(), clk.Now()); err != nil {
			return nil, err
		}
	}

	return s, nil
}

// find returns the key kid for a token signed with alg. It reloads the set
// when it is old, or when kid is unknown and the last attempt is
// jwksUnknownKID ago. It returns a *denial for a key the set lacks or that
// does not fit alg, and an *unavailableError when the set was never loaded.
func (s *keySet) find(ctx context.Context, kid, alg string) (crypto.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.clock.Now()
	k, known := s.keys[kid]

	if s.due(now, known) {
		if err := s.load(ctx, now); err != nil {
			if s.keys == nil {
				return nil, &unavailableError{err: err}
			}
			s.log.Warn("reload JWKS; the keys loaded before stay in use",
				"source", s.source(), "err", err)
		}
		k, known = s.keys[kid]
	}

	switch {
	case s.keys == nil:
		return nil, &unavailableError{err: errors.New("the JWKS has not been loaded; " +
			"the last attempt failed")}
	case !known:
		return nil, &denial{reason: "invalid Supabase access token: its key (kid) is not " +
			"in the JWKS"}
	case !fits(k, alg):
		return nil, &denial{reason: "invalid Supabase access token: its algorithm " + alg +
			" does not fit its key"}
	}

	return k.key, nil
}

// due reports whether the set should be loaded now.
func (s *keySet) due(now time.Time, known bool) bool {
	sinceTry := now.Sub(s.triedAt)

	switch {
	case s.triedAt.IsZero():
		return true
	case s.keys == nil:
		return sinceTry >= jwksRetry
	case !known && sinceTry >= jwksUnknownKID:
		return true
	}

	return now.Sub(s.loadedAt) >= jwksMaxAge && sinceTry >= jwksRetry
}

// load reads the set and replaces the keys. The caller holds s.mu, or has
// the set to itself.
func (s *keySet) load(ctx context.Context, now time.Time) error {
	s.triedAt = now

	data, err := s.read(ctx)
	if err != nil {
		return err
	}

	keys, err := parseJWKS(data)
	if err != nil {
		return fmt.Errorf("parse JWKS from %s: %w", s.source(), err)
	}

	s.keys, s.loadedAt = keys, now
	s.log.Info("loaded JWKS", "source", s.source(), "keys", len(keys))

	return nil
}

// read returns the raw set. A fetch is not cut short when the request
// that caused it goes away, since other requests wait for its keys.
func (s *keySet) read(ctx context.Context) ([]byte, error) {
	if s.path != "" {
		data, err := os.ReadFile(s.path)
		if err != nil {
			return nil, fmt.Errorf("read JWKS file: %w", err)
		}
		return data, nil
	}

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jwksTimeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("build JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/json")

	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS %s: status %s", s.url, resp.Status)
	}

	data, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read JWKS from %s: %w", s.url, err)
	}
	if len(data) > jwksMaxBytes {
		return nil, fmt.Errorf("JWKS from %s is larger than %d bytes", s.url, jwksMaxBytes)
	}

	return data, nil
}

// source names where the set comes from, for logs and errors.
func (s *keySet) source() string {
	if s.path != "" {
		return s.path
	}

	return s.url
}

// fits reports whether k may verify a token signed with alg.
func fits(k jwk, alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}

	switch key := k.key.(type) {
	case *rsa.PublicKey:
		return alg == "RS256"
	case *ecdsa.PublicKey:
		return alg == "ES256" && key.Curve == elliptic.P256()
	}

	return false
}

// rawJWK is one entry of a JWKS as JSON has it (RFC 7517, 7518).
type rawJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS returns the keys of a JWKS that can verify RS256 or ES256
// signatures, by kid. Keys without a kid, for encryption, of other types
// (symmetric ones above all) or malformed are left out; a set with no
// usable key is an error.
func parseJWKS(data []byte) (map[string]jwk, error) {
	var doc struct {
		Keys []rawJWK `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}

	keys := make(map[string]jwk, len(doc.Keys))
	var skipped []string

	for i, raw := range doc.Keys {
		key, err := raw.publicKey()
		switch {
		case err != nil:
			skipped = append(skipped, fmt.Sprintf("key %d: %v", i, err))
		case raw.Kid == "":
			skipped = append(skipped, fmt.Sprintf("key %d: no kid", i))
		case raw.Use != "" && raw.Use != "sig":
			skipped = append(skipped, fmt.Sprintf("key %d: use is %q", i, raw.Use))
		default:
			if _, dup := keys[raw.Kid]; !dup {
				keys[raw.Kid] = jwk{alg: raw.Alg, key: key}
			}
		}
	}

	if len(keys) == 0 {
		return nil, fmt.Errorf("no usable RS256 or ES256 key (%s)", strings.Join(skipped, "; "))
	}

	return keys, nil
}

// publicKey decodes an RSA key of at least minRSABits or a P-256 key.
func (r rawJWK) publicKey() (crypto.PublicKey, error) {
	switch r.Kty {
	case "RSA":
		n, err := decodeBig(r.N)
		if err != nil {
			return nil, fmt.Errorf("n: %w", err)
		}
		e, err := decodeBig(r.E)
		if err != nil {
			return nil, fmt.Errorf("e: %w", err)
		}

		if n.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits, want at least %d", n.BitLen(),
				minRSABits)
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
			return nil, errors.New("unusable RSA exponent")
		}

		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil

	case "EC":
		if r.Crv != "P-256" {
			return nil, fmt.Errorf("curve %q, want P-256", r.Crv)
		}

		x, errX := base64.RawURLEncoding.DecodeString(r.X)
		y, errY := base64.RawURLEncoding.DecodeString(r.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, errors.New("x and y must be 32 bytes each in base64url")
		}

		point := append(append([]byte{4}, x...), y...)
		key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
		if err != nil {
			return nil, fmt.Errorf("P-256 point: %w", err)
		}

		return key, nil
	}

	return nil, fmt.Errorf("key type %q is not accepted", r.Kty)
}

// decodeBig decodes an unsigned big-endian integer in base64url.
func decodeBig(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New("want a non-empty base64url number")
	}

	return new(big.Int).SetBytes(b), nil
}
