package coretest

import (
	"slices"
	"time"
)

// PercentileMS returns the p-quantile (0 to 1) of durations in
// milliseconds, 0 when there are none. It sorts a copy, so it can be
// called once per percentile a benchmark reports.
func PercentileMS(durations []time.Duration, p float64) float64 {
	if len(durations) == 0 {
		return 0
	}

	sorted := slices.Clone(durations)
	slices.Sort(sorted)

	d := sorted[min(int(p*float64(len(sorted)-1)), len(sorted)-1)]

	return float64(d) / float64(time.Millisecond)
}
