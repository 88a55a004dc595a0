package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load builds the configuration in three layers: Default, then the YAML file
// at path (skipped when path is empty), then the BOT_<SECTION>_<KEY>
// variables in environ, which has the form of os.Environ. The result is
// validated; on any error Load returns the zero Config.
//
// The file is read strictly: an unknown or repeated key, or a value of the
// wrong type, stops the load with an error that names the dotted key.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()

	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config file: %w", err)
		}

		if err := decodeYAML(data, path, &cfg); err != nil {
			return Config{}, err
		}
	}

	if err := applyEnv(&cfg, environ); err != nil {
		return Config{}, err
	}

	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}

	return cfg, nil
}

// decodeYAML decodes one YAML document from data, read from path, into cfg,
// leaving the fields the document does not mention as they were. An empty
// document is accepted.
func decodeYAML(data []byte, path string, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))

	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("parse config file %s: %w", path, err)
	}

	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %s must hold a single YAML document", path)
	}

	if len(doc.Content) == 0 {
		return nil
	}

	d := fileDecoder{path: path}

	return d.node(doc.Content[0], reflect.ValueOf(cfg).Elem(), "")
}

// fileDecoder decodes the nodes of one file and says where in it an error
// sits.
type fileDecoder struct {
	path string
}

// node decodes n into v, whose key is the dotted prefix ("" for the whole
// Config). Structs are walked key by key against their yaml tags so that an
// unknown key can be named in full; everything else is handed to yaml.v3.
func (d fileDecoder) node(n *yaml.Node, v reflect.Value, prefix string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}

	if v.Kind() != reflect.Struct {
		return d.leaf(n, v, prefix)
	}

	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("config: %s: want a mapping of keys (%s)",
			keyOrTop(prefix), d.at(n.Line))
	}

	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		keyNode, valueNode := n.Content[i], n.Content[i+1]
		key := joinKey(prefix, keyNode.Value)

		if seen[keyNode.Value] {
			return fmt.Errorf("config: duplicate key %q (%s)", key, d.at(keyNode.Line))
		}
		seen[keyNode.Value] = true

		field, ok := fieldByTag(v, keyNode.Value)
		if !ok {
			return fmt.Errorf("config: unknown key %q (%s)", key, d.at(keyNode.Line))
		}

		if err := d.node(valueNode, field, key); err != nil {
			return err
		}
	}

	return nil
}

// leaf decodes a single value and names key in any error. yaml.v3 would
// silently cut 1.5 down to 1 for an int, so fractions are refused here.
func (d fileDecoder) leaf(n *yaml.Node, v reflect.Value, key string) error {
	isInt := v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64
	if isInt && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
		return fmt.Errorf("config: %s: want a whole number, got %s (%s)",
			key, n.Value, d.at(n.Line))
	}

	err := n.Decode(v.Addr().Interface())

	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) && len(typeErr.Errors) > 0 {
		// Each entry reads "line N: cannot unmarshal ..."; keep its line, which
		// is more precise than n's inside a list.
		msg, where := typeErr.Errors[0], d.at(n.Line)
		if line, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(line, "line ") {
			msg, where = rest, d.path+" "+line
		}

		return fmt.Errorf("config: %s: %s (%s)", key, msg, where)
	}
	if err != nil {
		return fmt.Errorf("config: decode %s (%s): %w", key, d.at(n.Line), err)
	}

	return nil
}

// at names a line of the file for an error message.
func (d fileDecoder) at(line int) string {
	return fmt.Sprintf("%s line %d", d.path, line)
}

// fieldByTag returns the field of struct v whose yaml tag names key.
func fieldByTag(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if tagName(t.Field(i)) == key {
			return v.Field(i), true
		}
	}

	return reflect.Value{}, false
}

// tagName returns the key a struct field has in YAML, or "" when it has none.
func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}

	return name
}

// joinKey appends key to the dotted prefix.
func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}

	return prefix + "." + key
}

// keyOrTop names prefix in an error, or the top level when it is empty.
func keyOrTop(prefix string) string {
	if prefix == "" {
		return "top level"
	}

	return prefix
}
