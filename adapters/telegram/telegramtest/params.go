package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxUpload bounds a multipart request, as Telegram bounds photos to 10 MB
// and other files to 50 MB.
const maxUpload = 50 << 20

// readParams decodes a request's parameters from its query string and its
// body, form-encoded, multipart or JSON, as Telegram accepts them.
func readParams(r *http.Request) (url.Values, map[string]upload, error) {
	values := r.URL.Query()
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))

	switch mediaType {
	case "multipart/form-data":
		return readMultipart(r, values)
	case "application/json":
		err := readJSON(r.Body, values)
		return values, nil, err
	default:
		if err := r.ParseForm(); err != nil {
			return nil, nil, fmt.Errorf("read form: %w", err)
		}
		for k, v := range r.PostForm {
			values[k] = v
		}

		return values, nil, nil
	}
}

// readMultipart adds the fields of a multipart body to values and returns
// its files, the first of each field.
func readMultipart(r *http.Request, values url.Values) (url.Values, map[string]upload, error) {
	if err := r.ParseMultipartForm(maxUpload); err != nil {
		return nil, nil, fmt.Errorf("read multipart form: %w", err)
	}

	for k, v := range r.MultipartForm.Value {
		values[k] = v
	}

	files := map[string]upload{}
	for field, headers := range r.MultipartForm.File {
		f, err := headers[0].Open()
		if err != nil {
			return nil, nil, fmt.Errorf("open upload %s: %w", field, err)
		}

		data, err := io.ReadAll(f)
		_ = f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("read upload %s: %w", field, err)
		}

		files[field] = upload{name: headers[0].Filename, data: data}
	}

	return values, files, nil
}

// readJSON adds the fields of a JSON object to values: strings as they
// are, other values as their JSON text, nulls not at all.
func readJSON(body io.Reader, values url.Values) error {
	var fields map[string]json.RawMessage
	if err := json.NewDecoder(body).Decode(&fields); err != nil {
		return fmt.Errorf("read JSON body: %w", err)
	}

	for k, raw := range fields {
		raw = bytes.TrimSpace(raw)
		switch {
		case string(raw) == "null":
		case len(raw) > 0 && raw[0] == '"':
			var text string
			if err := json.Unmarshal(raw, &text); err != nil {
				return fmt.Errorf("read JSON field %s: %w", k, err)
			}
			values.Set(k, text)
		default:
			values.Set(k, string(raw))
		}
	}

	return nil
}

// intParam returns an integer parameter, or 0 when it is absent or not a
// number.
func intParam(params url.Values, name string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(params.Get(name)), 10, 64)
	if err != nil {
		return 0
	}

	return n
}

// boolParam reports whether a parameter is true.
func boolParam(params url.Values, name string) bool {
	b, _ := strconv.ParseBool(params.Get(name))
	return b
}

// chatIDParam returns the chat_id parameter. A missing one is refused as
// Telegram refuses it, and so is a channel @username, which the fake
// cannot resolve.
func chatIDParam(params url.Values) (int64, *apiError) {
	raw := strings.TrimSpace(params.Get("chat_id"))
	if raw == "" {
		return 0, badRequest("chat_id is empty")
	}

	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("chat not found")
	}

	return id, nil
}

// replyParams returns the message a send replies to, from reply_parameters
// or reply_to_message_id, and whether it may be sent when that message is
// gone.
func replyParams(params url.Values) (int64, bool, *apiError) {
	allow := boolParam(params, "allow_sending_without_reply")

	raw := params.Get("reply_parameters")
	if raw == "" || raw == "null" {
		return intParam(params, "reply_to_message_id"), allow, nil
	}

	var rp replyParameters
	if err := json.Unmarshal([]byte(raw), &rp); err != nil {
		return 0, false, badRequest("can't parse reply parameters JSON object")
	}

	return rp.MessageID, allow || rp.AllowSendingWithoutReply, nil
}
