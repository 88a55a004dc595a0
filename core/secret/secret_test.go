package secret_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/switchboardhq/switchboard/core/secret"
)

func newKey(t *testing.T) []byte {
	t.Helper()

	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)

	return key
}

func newBox(t *testing.T, key []byte) *secret.Box {
	t.Helper()

	b, err := secret.NewBox(key)
	if err != nil {
		t.Fatalf("NewBox: %v", err)
	}

	return b
}

func TestSealOpen(t *testing.T) {
	t.Parallel()

	box := newBox(t, newKey(t))
	plain := []byte("sk-live-0123456789")
	aad := []byte("agent-1/weather/api_key")

	a, err := box.Seal(plain, aad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}

	b, err := box.Seal(plain, aad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}

	if bytes.Equal(a, b) {
		t.Fatal("two seals of one value are equal, want a fresh nonce each")
	}

	if bytes.Contains(a, plain) {
		t.Fatal("sealed value contains the plaintext")
	}

	for _, sealed := range [][]byte{a, b} {
		got, err := box.Open(sealed, aad)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, %v, want %q", got, err, plain)
		}
	}
}

func TestOpenFails(t *testing.T) {
	t.Parallel()

	key := newKey(t)
	box := newBox(t, key)
	aad := []byte("agent-1/weather/api_key")

	sealed, err := box.Seal([]byte("sk-live-0123456789"), aad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}

	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1

	tests := []struct {
		name   string
		box    *secret.Box
		sealed []byte
		aad    []byte
	}{
		{"other key", newBox(t, newKey(t)), sealed, aad},
		{"other aad", box, sealed, []byte("agent-1/news/api_key")},
		{"no aad", box, sealed, nil},
		{"changed byte", box, flipped, aad},
		{"truncated", box, sealed[:20], aad},
		{"empty", box, nil, aad},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := tt.box.Open(tt.sealed, tt.aad)
			if !errors.Is(err, secret.ErrDecrypt) {
				t.Fatalf("Open = %q, %v, want ErrDecrypt", got, err)
			}
		})
	}
}

func TestNewBoxKeySize(t *testing.T) {
	t.Parallel()

	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := secret.NewBox(make([]byte, n)); err == nil {
			t.Errorf("NewBox with a %d-byte key succeeded, want an error", n)
		}
	}
}

func TestMask(t *testing.T) {
	t.Parallel()

	tests := []struct {
		value string
		want  string
	}{
		{"", "••••"},
		{"abc", "••••"},
		{"hunter2-abc", "••••"},
		{"hunter2-abcd", "••••abcd"},
		{"sk-live-0123456789wxyz", "••••wxyz"},
		{"пароль-секрет-ключ", "••••ключ"},
	}

	for _, tt := range tests {
		if got := secret.Mask(tt.value); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.value, got, tt.want)
		}
	}
}
