package secretbox

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k1, k2 := NewKey(), NewKey()
	b, err := New(k1)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal([]byte("hunter2"), "connector:o:1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("sealed value carries the plaintext")
	}
	got, err := b.Open(sealed, "connector:o:1")
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Bound to its place.
	if _, err := b.Open(sealed, "connector:o:2"); !errors.Is(err, ErrOpen) {
		t.Fatalf("other aad: %v", err)
	}
	// Tampered.
	bad := bytes.Clone(sealed)
	bad[len(bad)-1] ^= 1
	if _, err := b.Open(bad, "connector:o:1"); !errors.Is(err, ErrOpen) {
		t.Fatalf("tampered: %v", err)
	}
	// Rotation: a box with a new current key and the old one opens it.
	rot, err := New(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rot.Open(sealed, "connector:o:1"); err != nil || string(got) != "hunter2" {
		t.Fatalf("rotated Open = %q, %v", got, err)
	}
	if !rot.NeedsReseal(sealed) || b.NeedsReseal(sealed) {
		t.Fatal("NeedsReseal wrong")
	}
	// Without the old key it does not open.
	only2, _ := New(k2)
	if _, err := only2.Open(sealed, "connector:o:1"); !errors.Is(err, ErrOpen) {
		t.Fatalf("wrong key: %v", err)
	}
	// Two seals of the same value differ (fresh nonce).
	s2, _ := b.Seal([]byte("hunter2"), "connector:o:1")
	if bytes.Equal(s2, sealed) {
		t.Fatal("nonce reused")
	}
}

func TestNoKey(t *testing.T) {
	b, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	if b.Configured() {
		t.Fatal("configured without a key")
	}
	if _, err := b.Seal([]byte("x"), "a"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Seal: %v", err)
	}
	var nilBox *Box
	if _, err := nilBox.Open([]byte("x"), "a"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Open: %v", err)
	}
}

func TestParseKey(t *testing.T) {
	for _, bad := range []string{"short", strings.Repeat("a", 63), "c2hvcnQ="} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	if _, err := New(strings.Repeat("ab", 32)); err != nil {
		t.Errorf("hex key: %v", err)
	}
	if _, err := New("", NewKey()); err == nil {
		t.Error("old keys without a current key accepted")
	}
}
