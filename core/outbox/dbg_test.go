package outbox_test

import (
	"fmt"
	"testing"

	"github.com/switchboardhq/switchboard/core/outbox"
)

func TestDbg(t *testing.T) {
	for _, c := range []func(string) int{outbox.CountRunes, outbox.CountUTF16} {
		for _, limit := range []int{2, 3, 5, 8, 16, 50, 300} {
			for seed := range uint64(20) {
				text := randomText(seed, 400)
				parts := outbox.Split(text, limit, c)
				if len(text) > 5 && text[len(text)-2:] == "\n\n" {
					fmt.Printf("%d %d %q\n", limit, seed, parts[len(parts)-3:])
				}
			}
		}
	}
}
