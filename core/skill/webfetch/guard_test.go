package webfetch_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/switchboardhq/switchboard/core/skill/webfetch"
)

func TestCheckAddr(t *testing.T) {
	t.Parallel()

	tests := []struct {
		addr string
		want string
	}{
		{"8.8.8.8", ""},
		{"2606:4700::1111", ""},
		{"127.0.0.1", "refused: 127.0.0.1 is a loopback address"},
		{"127.0.0.2", "refused: 127.0.0.2 is a loopback address"},
		{"::1", "refused: ::1 is a loopback address"},
		{"10.0.0.5", "refused: 10.0.0.5 is a private address"},
		{"172.16.3.4", "refused: 172.16.3.4 is a private address"},
		{"172.32.0.1", ""},
		{"192.168.1.1", "refused: 192.168.1.1 is a private address"},
		{"fd00::1", "refused: fd00::1 is a private address"},
		{"169.254.169.254", "refused: 169.254.169.254 is a link-local address"},
		{"fe80::1", "refused: fe80::1 is a link-local address"},
		{"0.0.0.0", "refused: 0.0.0.0 is an unspecified address"},
		{"0.1.2.3", "refused: 0.1.2.3 is an unspecified address"},
		{"::", "refused: :: is an unspecified address"},
		{"224.0.0.1", "refused: 224.0.0.1 is a multicast address"},
		{"ff02::1", "refused: ff02::1 is a multicast address"},
		{"100.64.0.1", "refused: 100.64.0.1 is a carrier-grade NAT address"},
		{"100.128.0.1", ""},
		{"255.255.255.255", "refused: 255.255.255.255 is a broadcast address"},
		{"::ffff:127.0.0.1", "refused: ::ffff:127.0.0.1 is a loopback address"},
		{"::ffff:10.0.0.1", "refused: ::ffff:10.0.0.1 is a private address"},
		{"::ffff:169.254.169.254", "refused: ::ffff:169.254.169.254 is a link-local address"},
		{"64:ff9b::a00:1", "refused: 64:ff9b::a00:1 is a private address"},
		{"::ffff:8.8.8.8", ""},
	}

	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()

			err := webfetch.CheckAddr(netip.MustParseAddr(tt.addr))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckAddr(%s) = %v, want nil", tt.addr, err)
				}

				return
			}

			var refused *webfetch.RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("CheckAddr(%s) = %v, want a *RefusedError", tt.addr, err)
			}

			if err.Error() != tt.want {
				t.Errorf("CheckAddr(%s) = %q, want %q", tt.addr, err, tt.want)
			}
		})
	}
}
