package skill

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultWeatherURL is OpenWeatherMap's current-weather endpoint, whose
// API the weather skill speaks.
const DefaultWeatherURL = "https://api.openweathermap.org/data/2.5/weather"

// Weather is the "weather" skill: current weather for a place from an
// OpenWeatherMap-compatible API. It needs the credential "api_key".
type Weather struct {
	// URL is the endpoint; empty means DefaultWeatherURL.
	URL string
	// Client makes the request; nil means one with a 10 s time-out.
	Client *http.Client
}

// Name returns "weather".
func (Weather) Name() string { return "weather" }

// Description tells the model when to use it.
func (Weather) Description() string {
	return "Get the current weather for a place: temperature, feel, conditions, " +
		"humidity and wind."
}

// Parameters takes the place.
func (Weather) Parameters() json.RawMessage {
	return json.RawMessage(`{"type":"object","required":["location"],"properties":` +
		`{"location":{"type":"string","description":"a city, e.g. Berlin or Paris,FR"}}}`)
}

// Credentials names the API key.
func (Weather) Credentials() []string { return []string{"api_key"} }

// weatherReply is the part of the API's answer the skill reads.
type weatherReply struct {
	Name string `json:"name"`
	Main struct {
		Temp      float64 `json:"temp"`
		FeelsLike float64 `json:"feels_like"`
		Humidity  int     `json:"humidity"`
	} `json:"main"`
	Weather []struct {
		Description string `json:"description"`
	} `json:"weather"`
	Wind struct {
		Speed float64 `json:"speed"`
	} `json:"wind"`
	Message string `json:"message"`
}

// Run asks the API and describes the weather in one line.
func (w Weather) Run(ctx context.Context, call Call) (string, error) {
	var args struct {
		Location string `json:"location"`
	}

	if err := decodeArgs(call.Arguments, &args); err != nil {
		return "", err
	}

	loc := strings.TrimSpace(args.Location)
	if loc == "" || len(loc) > 100 {
		return "", fmt.Errorf("location: must be 1 to 100 characters")
	}

	reply, err := w.fetch(ctx, loc, call.Credentials["api_key"])
	if err != nil {
		return "", err
	}

	conditions := "unknown conditions"
	if len(reply.Weather) > 0 {
		conditions = reply.Weather[0].Description
	}

	return fmt.Sprintf("%s: %.0f °C (feels like %.0f °C), %s, humidity %d%%, wind %.0f km/h",
		reply.Name, reply.Main.Temp, reply.Main.FeelsLike, conditions, reply.Main.Humidity,
		reply.Wind.Speed*3.6), nil
}

func (w Weather) fetch(ctx context.Context, loc, key string) (*weatherReply, error) {
	base := w.URL
	if base == "" {
		base = DefaultWeatherURL
	}

	q := url.Values{"q": {loc}, "appid": {key}, "units": {"metric"}}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("build weather request: %w", err)
	}

	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}

	resp, err := client.Do(req)
	if err != nil {
		// The error holds the URL, and with it the key.
		return nil, fmt.Errorf("the weather service did not answer")
	}
	defer resp.Body.Close()

	var reply weatherReply
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&reply)

	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("the weather service refused the api_key credential")
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("the weather service does not know %q", loc)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("the weather service answered %s", resp.Status)
	}

	return &reply, nil
}
