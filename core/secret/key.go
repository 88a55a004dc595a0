package secret

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the key file LoadKey keeps in the data directory when the
// configuration holds no key.
const KeyFileName = "secret.key"

// LoadKey returns the deployment's key. A configured key (secrets.key, the
// base64 of KeySize bytes) wins; without one the key is read from
// KeyFileName in dataDir, and when that file is missing a new random key is
// written there with permission 0600 and a warning to back it up. A key
// file that does not hold a valid key is an error, never replaced: values
// sealed with the lost key could not be opened again. A nil log means
// slog.Default.
func LoadKey(configured, dataDir string, log *slog.Logger) ([]byte, error) {
	if log == nil {
		log = slog.Default()
	}

	if configured != "" {
		key, ok := decodeKey([]byte(configured))
		if !ok {
			return nil, fmt.Errorf("secrets.key: must be the base64 of %d random bytes "+
				"(make one with: openssl rand -base64 %d)", KeySize, KeySize)
		}

		return key, nil
	}

	if dataDir == "" {
		return nil, errors.New("load secret key: secrets.key is not set and there is " +
			"no data directory to keep a key file in")
	}

	path := filepath.Join(dataDir, KeyFileName)

	key, err := readKeyFile(path, log)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}

	key, err = createKeyFile(path)
	if errors.Is(err, fs.ErrExist) {
		// Another process wrote the file between our read and create.
		return readKeyFile(path, log)
	}

	if err != nil {
		return nil, err
	}

	log.Warn("secret: generated a new secret key; back up this file, without it "+
		"stored credentials cannot be read", "path", path)

	return key, nil
}

// decodeKey reads the base64 of a key, ignoring surrounding white space.
func decodeKey(text []byte) ([]byte, bool) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text)))
	if err != nil || len(key) != KeySize {
		return nil, false
	}

	return key, true
}

// readKeyFile reads the key at path. An error wrapping fs.ErrNotExist says
// the file is missing.
func readKeyFile(path string, log *slog.Logger) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret key file %s: %w", path, err)
	}

	key, ok := decodeKey(data)
	if !ok {
		return nil, fmt.Errorf("secret key file %s: must hold the base64 of %d bytes; "+
			"restore it from a backup, or remove it only if no credentials are stored",
			path, KeySize)
	}

	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		log.Warn("secret: key file is readable by others; restrict it to mode 0600",
			"path", path, "mode", info.Mode().Perm().String())
	}

	return key, nil
}

// createKeyFile writes a new random key to path, which must not exist yet.
func createKeyFile(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create directory for secret key file: %w", err)
	}

	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("draw secret key: %w", err)
	}

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create secret key file: %w", err)
	}

	text := base64.StdEncoding.AppendEncode(nil, key)
	text = append(text, '\n')

	_, err = f.Write(text)
	if err == nil {
		err = f.Sync()
	}

	if cerr := f.Close(); err == nil {
		err = cerr
	}

	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("write secret key file %s: %w", path, err)
	}

	return key, nil
}
