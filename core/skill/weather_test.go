package skill_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/core/skill"
)

func TestWeather(t *testing.T) {
	t.Parallel()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()

		switch {
		case q.Get("appid") != "secret-key-123":
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"cod":401,"message":"Invalid API key."}`))
		case q.Get("q") != "Berlin" || q.Get("units") != "metric":
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"cod":"404","message":"city not found"}`))
		default:
			_, _ = w.Write([]byte(`{"name":"Berlin","main":{"temp":3.4,"feels_like":-0.6,` +
				`"humidity":81},"weather":[{"description":"light rain"}],` +
				`"wind":{"speed":5}}`))
		}
	}))
	defer srv.Close()

	w := skill.Weather{URL: srv.URL}
	run := func(loc, key string) (string, error) {
		args, _ := json.Marshal(map[string]string{"location": loc})

		return w.Run(context.Background(), skill.Call{Arguments: args,
			Credentials: map[string]string{"api_key": key}})
	}

	got, err := run("Berlin", "secret-key-123")
	want := "Berlin: 3 °C (feels like -1 °C), light rain, humidity 81%, wind 18 km/h"

	if err != nil || got != want {
		t.Fatalf("Run = %q, %v; want %q", got, err, want)
	}

	if _, err := run("Berlin", "wrong"); err == nil ||
		!strings.Contains(err.Error(), "refused the api_key") {
		t.Fatalf("wrong key: %v", err)
	}

	if _, err := run("Atlantis", "secret-key-123"); err == nil ||
		!strings.Contains(err.Error(), `does not know "Atlantis"`) {
		t.Fatalf("unknown place: %v", err)
	}

	srv.Close()

	if _, err := run("Berlin", "secret-key-123"); err == nil ||
		strings.Contains(err.Error(), "secret-key-123") {
		t.Fatalf("unreachable service: %v (the key must not show)", err)
	}
}
