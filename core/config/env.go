package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// envPrefix starts every variable that overrides a key.
const envPrefix = "BOT_"

// keyField is one configurable value: its dotted key, the variable that
// overrides it and the field itself.
type keyField struct {
	key    string
	envVar string
	value  reflect.Value
}

// keyFields lists, in field order, every key below the struct v, whose own
// dotted key is prefix ("" for the whole Config). Nested structs are walked;
// a field of any other type is a key.
func keyFields(v reflect.Value, prefix string) []keyField {
	var out []keyField

	t := v.Type()
	for i := range t.NumField() {
		name := tagName(t.Field(i))
		if name == "" {
			continue
		}

		key := joinKey(prefix, name)
		field := v.Field(i)
		if field.Kind() == reflect.Struct {
			out = append(out, keyFields(field, key)...)
			continue
		}

		envVar := envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		out = append(out, keyField{key: key, envVar: envVar, value: field})
	}

	return out
}

// applyEnv sets the keys named by the BOT_ variables in environ. A variable
// in a known section with an unknown key is an error, so that a misspelt
// override does not go unnoticed; one whose section is unknown belongs to
// someone else and is ignored. When a variable appears twice, the last one
// wins.
func applyEnv(cfg *Config, environ []string) error {
	all := keyFields(reflect.ValueOf(cfg).Elem(), "")

	byVar := make(map[string]keyField, len(all))
	for _, l := range all {
		byVar[l.envVar] = l
	}

	sections := envSections()

	for _, kv := range environ {
		name, raw, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) {
			continue
		}

		l, known := byVar[name]
		if !known {
			s, inKnown := sectionOf(name, sections)
			if !inKnown {
				continue
			}

			key := strings.ToLower(strings.TrimPrefix(name, s.prefix))
			return fmt.Errorf("config: unknown variable %s: section %s has no key %q",
				name, s.name, key)
		}

		if err := setFromEnv(l.value, raw); err != nil {
			return fmt.Errorf("config: parse %s for %s: %w", name, l.key, err)
		}
	}

	return nil
}

// envSection is one top-level section of Config and the prefix its
// variables share.
type envSection struct {
	name   string // "http"
	prefix string // "BOT_HTTP_"
}

// envSections lists the sections of Config.
func envSections() []envSection {
	var out []envSection

	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if name := tagName(t.Field(i)); name != "" {
			prefix := envPrefix + strings.ToUpper(name) + "_"
			out = append(out, envSection{name: name, prefix: prefix})
		}
	}

	return out
}

// sectionOf returns the section whose prefix the variable name starts with.
func sectionOf(name string, sections []envSection) (envSection, bool) {
	for _, s := range sections {
		if strings.HasPrefix(name, s.prefix) {
			return s, true
		}
	}

	return envSection{}, false
}

// setFromEnv parses raw into v according to v's type: strings as they are,
// durations with time.ParseDuration, ints with strconv.Atoi, floats with
// strconv.ParseFloat, booleans with strconv.ParseBool (true, false, 1, 0),
// and string lists split at commas with blanks trimmed and empty entries
// dropped.
func setFromEnv(v reflect.Value, raw string) error {
	if v.Type() == reflect.TypeFor[time.Duration]() {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}

		v.SetInt(int64(d))
		return nil
	}

	switch {
	case v.Kind() == reflect.String:
		v.SetString(raw)

	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return err
		}
		v.SetInt(int64(n))

	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return err
		}
		v.SetBool(b)

	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return err
		}
		v.SetFloat(f)

	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		list := reflect.MakeSlice(v.Type(), 0, 0)
		for item := range strings.SplitSeq(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = reflect.Append(list, reflect.ValueOf(item).Convert(v.Type().Elem()))
			}
		}
		v.Set(list)

	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}

	return nil
}
