package openai_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/adapters/openai"
	"github.com/switchboardhq/switchboard/adapters/openai/openaitest"
	"github.com/switchboardhq/switchboard/core/llm"
)

func TestCheckModel(t *testing.T) {
	t.Parallel()

	srv := openaitest.NewServer(t, openaitest.WithAPIKey("right"),
		openaitest.WithModels("llama3.2", "qwen2.5"))

	good := openai.New(openai.Config{BaseURL: srv.URL(), APIKey: "right"})
	if err := good.CheckModel(context.Background(), "qwen2.5"); err != nil {
		t.Fatalf("an existing model: %v", err)
	}

	err := good.CheckModel(context.Background(), "gpt-9")
	if err == nil || !strings.Contains(err.Error(), "llama3.2") {
		t.Fatalf("a missing model: %v, want the models there are", err)
	}

	bad := openai.New(openai.Config{BaseURL: srv.URL(), APIKey: "wrong"})
	if err := bad.CheckModel(context.Background(), "qwen2.5"); llm.ErrorOf(err).Status != 401 ||
		strings.Contains(err.Error(), "wrong") {
		t.Fatalf("a wrong key: %v, want a 401 that hides the key", err)
	}
}
