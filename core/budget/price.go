package budget

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	Input  float64
	Output float64
}

// Prices maps model names to their prices.
type Prices map[string]Price

// ParsePrices reads entries of the form "model=input/output", prices in US
// dollars per million tokens, such as "gpt-4o-mini=0.15/0.60". A model
// name may contain "=" only before the last one.
func ParsePrices(entries []string) (Prices, error) {
	out := make(Prices, len(entries))

	for _, e := range entries {
		i := strings.LastIndex(e, "=")
		if i <= 0 {
			return nil, fmt.Errorf("price %q: want model=input/output", e)
		}

		model := strings.TrimSpace(e[:i])
		in, outPrice, ok := strings.Cut(e[i+1:], "/")
		if !ok {
			return nil, fmt.Errorf("price %q: want model=input/output", e)
		}

		p, err := parseAmounts(in, outPrice)
		if err != nil {
			return nil, fmt.Errorf("price %q: %w", e, err)
		}

		if _, dup := out[model]; dup {
			return nil, fmt.Errorf("price %q: model %s is priced twice", e, model)
		}

		out[model] = p
	}

	return out, nil
}

func parseAmounts(in, out string) (Price, error) {
	var p Price

	for _, a := range []struct {
		text string
		dst  *float64
	}{{in, &p.Input}, {out, &p.Output}} {
		v, err := strconv.ParseFloat(strings.TrimSpace(a.text), 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return Price{}, fmt.Errorf("%q is not a price: want a number of dollars >= 0",
				a.text)
		}

		*a.dst = v
	}

	return p, nil
}

// CostMicros returns the cost in millionths of a dollar of a call to model
// with the given tokens; 0 for a model without a price.
func (ps Prices) CostMicros(model string, input, output int64) int64 {
	p, ok := ps[model]
	if !ok {
		return 0
	}

	// Dollars per million tokens times tokens is micro-dollars.
	return int64(math.Round(p.Input*float64(input) + p.Output*float64(output)))
}

// Dollars formats micro-dollars as dollars with cents, or with more
// digits below a cent, such as "$1.25" or "$0.0042".
func Dollars(micros int64) string {
	d := float64(micros) / 1e6
	if micros != 0 && micros < 10_000 && micros > -10_000 {
		return "$" + strconv.FormatFloat(d, 'f', 4, 64)
	}

	return "$" + strconv.FormatFloat(d, 'f', 2, 64)
}
