package openai

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/openai/openai-go/v3/option"

	"github.com/switchboardhq/switchboard/core/llm"
)

var _ llm.ModelChecker = (*Provider)(nil)

// CheckModel lists the server's models and looks for model. A refused key
// or an unreachable server is an *llm.Error as a call's would be; a model
// the list lacks is an error that names the models there are.
func (p *Provider) CheckModel(ctx context.Context, model string) error {
	callCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()

	var raw *http.Response

	page, err := p.client.Models.List(callCtx, option.WithResponseInto(&raw))
	if err != nil {
		return p.callError(ctx, raw, err)
	}

	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}

	if !slices.Contains(ids, model) {
		return fmt.Errorf("the server has no model %q; it has %v", model, ids)
	}

	return nil
}
