// Package secretbox seals the secrets Logbook keeps for its connectors (a
// mailbox password, a calendar token, a vendor's webhook secret, the org's
// Twilio auth token) with AES-256-GCM under a key from the environment
// (LOGBOOK_SECRET_KEY), so a copy of the database alone reveals none of
// them. Each sealed value is bound to where it is stored (the additional
// data names the org and the row), so a ciphertext copied to another row
// does not open. Old keys can be kept for opening while new values are
// sealed with the current one (rotation). Stdlib only.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// version is the first byte of every sealed value.
const version = 1

// header is version (1) + key id (4) + nonce (12).
const header = 1 + 4 + 12

// ErrNoKey is returned by Seal and Open when the Box has no key: the
// deployment did not set LOGBOOK_SECRET_KEY.
var ErrNoKey = errors.New("secretbox: no LOGBOOK_SECRET_KEY is configured, so secrets cannot be stored or read")

// ErrOpen is returned when a sealed value does not open: it was sealed
// under a key this Box does not have, for another place, or it was changed.
var ErrOpen = errors.New("secretbox: the sealed value does not open with the configured keys")

type key struct {
	id   [4]byte
	aead cipher.AEAD
}

// Box seals with its first key and opens with any of its keys. The zero
// Box (and nil) has no key: Seal and Open return ErrNoKey.
type Box struct {
	keys []key
}

// New returns a Box sealing with current and opening with current or any
// of old. Each key is 32 bytes, written as 64 hex digits or as base64
// (standard or URL alphabet, padded or not). An empty current returns a Box
// without keys (nil error): the server runs, and refuses to store secrets.
func New(current string, old ...string) (*Box, error) {
	b := &Box{}
	if strings.TrimSpace(current) == "" {
		if len(old) > 0 {
			return nil, errors.New("secretbox: old keys are set but the current key is empty")
		}
		return b, nil
	}
	for i, s := range append([]string{current}, old...) {
		raw, err := ParseKey(s)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("secretbox: LOGBOOK_SECRET_KEY: %w", err)
			}
			return nil, fmt.Errorf("secretbox: old key %d: %w", i, err)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("secretbox: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secretbox: %w", err)
		}
		sum := sha256.Sum256(raw)
		var k key
		copy(k.id[:], sum[:4])
		k.aead = aead
		b.keys = append(b.keys, k)
	}
	return b, nil
}

// ParseKey decodes a 32-byte key written as hex or base64.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if raw, err := hex.DecodeString(s); err == nil {
			return raw, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil {
			if len(raw) != 32 {
				return nil, fmt.Errorf("must be 32 bytes, got %d", len(raw))
			}
			return raw, nil
		}
	}
	return nil, errors.New("must be 32 bytes as 64 hex digits or base64")
}

// NewKey returns a fresh random key, base64-encoded: what an operator puts
// in LOGBOOK_SECRET_KEY.
func NewKey() string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go 1.24+)
	return base64.StdEncoding.EncodeToString(raw)
}

// Configured reports whether b can seal and open.
func (b *Box) Configured() bool { return b != nil && len(b.keys) > 0 }

// Seal encrypts plaintext for the place named by aad (say "connector:" +
// org + ":" + id): Open must be given the same aad.
func (b *Box) Seal(plaintext []byte, aad string) ([]byte, error) {
	if !b.Configured() {
		return nil, ErrNoKey
	}
	k := b.keys[0]
	out := make([]byte, header, header+len(plaintext)+k.aead.Overhead())
	out[0] = version
	copy(out[1:5], k.id[:])
	_, _ = rand.Read(out[5:header])
	return k.aead.Seal(out, out[5:header], plaintext, []byte(aad)), nil
}

// Open decrypts a value Seal made for aad, with whichever configured key
// sealed it.
func (b *Box) Open(sealed []byte, aad string) ([]byte, error) {
	if !b.Configured() {
		return nil, ErrNoKey
	}
	if len(sealed) < header || sealed[0] != version {
		return nil, ErrOpen
	}
	for _, k := range b.keys {
		if [4]byte(sealed[1:5]) != k.id {
			continue
		}
		pt, err := k.aead.Open(nil, sealed[5:header], sealed[header:], []byte(aad))
		if err != nil {
			return nil, ErrOpen
		}
		return pt, nil
	}
	return nil, ErrOpen
}

// NeedsReseal reports whether sealed was made with a key other than the
// current one (so a rotation can rewrite it).
func (b *Box) NeedsReseal(sealed []byte) bool {
	return b.Configured() && len(sealed) >= header && [4]byte(sealed[1:5]) != b.keys[0].id
}
