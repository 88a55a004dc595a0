package settings_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/secret"
	"github.com/switchboardhq/switchboard/core/settings"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

func ptr(s string) *string { return &s }

func TestSaveMergesAndSealsTheKey(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		ctx := context.Background()
		now := time.Now().UTC()

		box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
		if err != nil {
			t.Fatal(err)
		}

		empty, err := settings.Load(ctx, db, "a")
		if err != nil || empty.AIModel != "" || empty.SealedAPIKey != nil {
			t.Fatalf("settings before any save = %+v, %v", empty, err)
		}

		_, err = settings.Save(ctx, db, "a", settings.Patch{AIModel: ptr("gpt-4o"),
			AIAPIKey: ptr("sk-very-secret-key")}, box, now)
		if err != nil {
			t.Fatal(err)
		}

		_, err = settings.Save(ctx, db, "a", settings.Patch{ServerTier: ptr("starter"),
			ServerRegion: ptr("eu-north")}, box, now)
		if err != nil {
			t.Fatal(err)
		}

		got, err := settings.Load(ctx, db, "a")
		if err != nil {
			t.Fatal(err)
		}

		key, err := got.APIKey(box)
		if err != nil || key != "sk-very-secret-key" || got.AIModel != "gpt-4o" ||
			got.ServerTier != "starter" || got.ServerRegion != "eu-north" {
			t.Fatalf("settings = %+v with key %q (%v)", got, key, err)
		}

		var raw []byte
		if err := db.NewRaw("SELECT ai_api_key FROM agent_settings").Scan(ctx, &raw); err != nil {
			t.Fatal(err)
		}

		if bytes.Contains(raw, []byte("very-secret")) {
			t.Fatal("the API key is stored in plain text")
		}

		other, err := settings.Load(ctx, db, "b")
		if err != nil || other.AIModel != "" {
			t.Fatalf("another agent's settings = %+v, %v", other, err)
		}
	})
}

func TestPatchValidation(t *testing.T) {
	t.Parallel()

	for _, c := range []struct {
		patch settings.Patch
		field string
	}{
		{settings.Patch{AIModel: ptr(" ")}, "aiModel"},
		{settings.Patch{AIModel: ptr("a\nb")}, "aiModel"},
		{settings.Patch{MessengerType: ptr("icq")}, "messengerType"},
		{settings.Patch{ServerTier: ptr("huge")}, "serverTier"},
		{settings.Patch{ServerRegion: ptr("mars-1")}, "serverRegion"},
		{settings.Patch{AIAPIKey: ptr("")}, "aiApiKey"},
	} {
		var ie *core.InputError
		if err := c.patch.Validate(); !errors.As(err, &ie) || ie.Field != c.field {
			t.Errorf("Validate(%+v) = %v, want an error on %s", c.patch, err, c.field)
		}
	}

	ok := settings.Patch{AIModel: ptr("llama3.2"), MessengerType: ptr("telegram"),
		ServerTier: ptr("enterprise"), ServerRegion: ptr("ap-south"), AIAPIKey: ptr("k")}
	if err := ok.Validate(); err != nil || ok.Empty() || !(settings.Patch{}).Empty() {
		t.Fatalf("a valid patch: %v", err)
	}
}
