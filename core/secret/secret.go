// Package secret seals small secrets, such as the API keys a skill needs,
// with AES-256-GCM under one key per deployment, and finds that key in the
// configuration or in a key file beside the data. A Box is safe for
// concurrent use.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the length of a key in bytes: AES-256.
const KeySize = 32

// nonceSize is the length of the random nonce stored before each
// ciphertext, the standard size for GCM.
const nonceSize = 12

// ErrDecrypt is returned by Open when a sealed value does not open: the key
// or the additional data differ from those it was sealed with, or the value
// was damaged. The caller cannot recover the plaintext.
var ErrDecrypt = errors.New("open secret: wrong key, wrong context or damaged value")

// Box seals and opens secrets with one key.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a Box for key, which must be KeySize bytes.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("create secret box: key is %d bytes, want %d", len(key), KeySize)
	}

	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("create secret box: %w", err)
	}

	aead, err := cipher.NewGCMWithNonceSize(block, nonceSize)
	if err != nil {
		return nil, fmt.Errorf("create secret box: %w", err)
	}

	return &Box{aead: aead}, nil
}

// Seal encrypts plain under a fresh random nonce and returns the nonce
// followed by the ciphertext. aad names the value's place, such as
// "agent/skill/name": Open succeeds only with the same aad, so a sealed
// value copied to another place does not open.
func (b *Box) Seal(plain, aad []byte) ([]byte, error) {
	out := make([]byte, nonceSize, nonceSize+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("draw nonce: %w", err)
	}

	return b.aead.Seal(out, out[:nonceSize], plain, aad), nil
}

// Open decrypts a value made by Seal with the same aad. It returns
// ErrDecrypt when the key or aad differ or the value was changed.
func (b *Box) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < nonceSize+b.aead.Overhead() {
		return nil, ErrDecrypt
	}

	plain, err := b.aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}

	return plain, nil
}

// maskDots hides a value, or all but its end.
const maskDots = "••••"

// Mask returns a form of value that is safe to show: the last 4 characters
// behind dots for a value of 12 characters or more ("••••abcd"), only the
// dots for a shorter one, whose end would give away too much of it.
func Mask(value string) string {
	r := []rune(value)
	if len(r) < 12 {
		return maskDots
	}

	return maskDots + string(r[len(r)-4:])
}
